using System.ClientModel;
using System.Diagnostics;
using OpenAI.Chat;

namespace Gateway.Testing.Faults;

public sealed record RaceReport(
    int Requests, int Affordable, long CostEach, long StartingBalance, int Served, int Refused402, int Resent503, IReadOnlyDictionary<string, int> Others,
    long LowestBalanceSeen, long LowestAvailableSeen, Wallet? Final, Charges Charged, TimeSpan Took);

/// <summary>
/// A wallet that can pay for exactly N requests, and many more than N sent at once through the OpenAI client: N should
/// be served, the rest refused with 402, and the wallet end at zero without ever going below it. A request answered 503
/// ("nothing was charged, try again shortly": Billing did not confirm its hold within the reservation timeout, as for 20
/// of 150 on a loaded CI machine just after a Chat instance was killed and started again) is sent again a second later,
/// at most three times, as the OpenAI clients do by default.
/// </summary>
public static class OverdraftRace
{
    // Each request costs 64 credits: prompt + max_tokens, which MockLlm answers in full. Chat makes a busy caller's
    // standby holds in steps of at least 64 (StandbyHolds.Bucket: 64 is one), so at 64 a standby hold is exactly one
    // request's cost and the count of requests served is the count of holds the balance allows.
    public const long Cost = 64;
    private const string Message = "Race [mock:tokens=64]";
    private const int Attempts = 4;

    public static async Task<RaceReport> RunAsync(FaultSystem system, int affordable, int requests, CancellationToken ct)
    {
        // The prompt's tokens as the model counts them, from one request by another user.
        var calibration = (await system.SignUpAsync("calibration", 1, 10_000, ct))[0];
        ChatCompletion probe = await system.OpenAIClient(calibration, TimeSpan.FromSeconds(60)).CompleteChatAsync([new UserChatMessage(Message)], new ChatCompletionOptions { MaxOutputTokenCount = 1 }, ct);
        var maxTokens = (int)(Cost - probe.Usage.InputTokenCount);
        if (maxTokens < 1)
        {
            throw new InvalidOperationException($"The race's prompt alone is {probe.Usage.InputTokenCount} tokens, more than {Cost}.");
        }

        var user = (await system.SignUpAsync("race", 1, affordable * Cost, ct))[0];
        var sdk = system.OpenAIClient(user, TimeSpan.FromSeconds(60));
        var options = new ChatCompletionOptions { MaxOutputTokenCount = maxTokens };
        var clock = Stopwatch.StartNew();
        var go = new TaskCompletionSource();
        var resent = 0;
        var sent = Enumerable.Range(0, requests).Select(async _ =>
        {
            await go.Task;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    ChatCompletion completion = await sdk.CompleteChatAsync([new UserChatMessage(Message)], options, ct);
                    return completion.Usage.TotalTokenCount == Cost ? "200" : $"200 costing {completion.Usage.TotalTokenCount}";
                }
                catch (ClientResultException e) when (e.Status == 503 && attempt < Attempts)
                {
                    Interlocked.Increment(ref resent);
                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                }
                catch (ClientResultException e)
                {
                    return e.Status == 0 ? "no response" : e.Status.ToString();
                }
            }
        }).ToList();

        using var watching = new CancellationTokenSource();
        var lowest = WatchAsync(system, user, watching.Token);
        go.SetResult();
        var outcomes = await Task.WhenAll(sent);
        await watching.CancelAsync();
        var (lowestBalance, lowestAvailable) = await lowest;

        // Quiet: the last holds resolved (standby holds go back two seconds after the last request).
        var quiet = Stopwatch.StartNew();
        var final = await system.BalanceAsync(user, ct);
        while (final is not { Held: 0 } && quiet.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(250, ct);
            final = await system.BalanceAsync(user, ct);
        }
        var charged = await system.ChargesAsync(user, ct) ?? new Charges(-1, -1);
        var took = clock.Elapsed;

        return new RaceReport(requests, affordable, Cost, affordable * Cost,
            outcomes.Count(o => o == "200"), outcomes.Count(o => o == "402"), resent,
            outcomes.Where(o => o is not "200" and not "402").GroupBy(o => o).ToDictionary(g => g.Key, g => g.Count()),
            lowestBalance, lowestAvailable, final, charged, took);
    }

    // The wallet as often as it answers, while the race runs: the lowest balance and available seen.
    private static async Task<(long Balance, long Available)> WatchAsync(FaultSystem system, FaultUser user, CancellationToken ct)
    {
        var (balance, available) = (long.MaxValue, long.MaxValue);
        while (!ct.IsCancellationRequested)
        {
            if (await system.BalanceAsync(user, CancellationToken.None) is { } wallet)
            {
                (balance, available) = (Math.Min(balance, wallet.Balance), Math.Min(available, wallet.Available));
            }
            try
            {
                await Task.Delay(20, ct);
            }
            catch (OperationCanceledException)
            {
            }
        }
        return (balance, available);
    }
}
