using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Chat.Tests;

// Standby holds (services/Chat/Metering/StandbyHolds.cs): a busy caller's next requests find their credits already
// held in Billing. A request's hold id is its completion's id (chatcmpl-<hold>), a version 7 Guid whose first 48 bits
// are the millisecond it was made: a hold made before the request was sent was made ahead, on standby.
[Collection(nameof(ChatSystem))]
public sealed class StandbyHoldTests(ChatSystem chat)
{
    private static CancellationToken Cancel => ChatSystem.Cancel;

    [Fact]
    public async Task A_busy_callers_later_requests_start_with_holds_made_ahead_each_charged_exactly_once_and_the_rest_given_back_when_idle()
    {
        var user = await chat.UserAsync();

        var answers = new List<(bool MadeAhead, long Credits)>();
        for (var i = 0; i < 6; i++)
        {
            answers.Add(await CompleteAsync(user, maxTokens: 20));
            // A caller with a moment between requests (still within BusyWithin): time for the next hold to be made
            // even on a loaded machine, where a request can finish before its successor's hold is ready.
            await Task.Delay(300, Cancel);
        }

        // The first two reserve on their path (the second makes the caller busy); from then on a hold is waiting.
        Assert.False(answers[0].MadeAhead);
        Assert.True(answers.Skip(2).Count(a => a.MadeAhead) >= 3, string.Join(", ", answers));
        var charged = answers.Sum(a => a.Credits);
        // Nothing is in flight, yet credits are held: the standby hold for the next request ...
        Assert.True((await ChatSystem.BalanceAsync(user)).Held > 0);
        // ... which goes back once nobody takes it, leaving exactly the six charges.
        var after = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance == ChatSystem.SignUpGrant - charged);
        Assert.Equal(new Wallet(ChatSystem.SignUpGrant - charged, 0, ChatSystem.SignUpGrant - charged), after);
        var usage = await Eventually.UntilAsync(() => ChatSystem.UsageEntriesAsync(user), e => e.Count >= 6);
        Assert.Equal(answers.Select(a => -a.Credits).Order(), usage.Select(e => e.GetProperty("amount").GetInt64()).Order());
    }

    [Fact]
    public async Task A_caller_whose_credits_would_run_low_gets_no_standby_holds_so_each_request_is_held_on_its_own_and_402s_stay_exact()
    {
        var user = await chat.UserAsync();

        // Each worst case is ≈ 310 credits of the 1,000: a standby hold of 320 would leave less than 4 × 320.
        var first = await CompleteAsync(user, maxTokens: 300);
        var second = await CompleteAsync(user, maxTokens: 300);
        await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0);

        Assert.False(first.MadeAhead);
        Assert.False(second.MadeAhead);
        var spent = first.Credits + second.Credits;
        using var refused = await user.Client.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "local-model",
            max_tokens = 1000,
            messages = new[] { new { role = "user", content = "A long one" } },
        }, Cancel);
        var error = await refused.ShouldBe(HttpStatusCode.PaymentRequired);
        Assert.EndsWith($"Available: {ChatSystem.SignUpGrant - spent}", error.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task An_answer_without_a_limit_grows_into_its_callers_standby_holds_rather_than_stopping_where_Billing_counts_them_held()
    {
        var user = await chat.UserAsync();
        // Short requests in quick succession: the caller is busy and rich, so standby holds are made for them.
        var spent = 0L;
        for (var i = 0; i < 3; i++)
        {
            spent += (await CompleteAsync(user, maxTokens: 20)).Credits;
            await Task.Delay(300, Cancel);
        }
        var before = await ChatSystem.BalanceAsync(user);
        Assert.True(before.Held >= 256, $"No standby holds to grow into: {before}");

        // More than Billing has available (the standby holds are held), less than the wallet: answered in full.
        using var response = await user.Client.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "local-model",
            messages = new[] { new { role = "user", content = "A long one [mock:tokens=700]" } },
        }, Cancel);
        var completion = await response.ShouldBe(HttpStatusCode.OK);
        var usage = completion.GetProperty("usage");
        Assert.Equal(("stop", 700), (completion.GetProperty("choices")[0].GetProperty("finish_reason").GetString(), usage.GetProperty("completion_tokens").GetInt32()));
        spent += usage.GetProperty("total_tokens").GetInt64();
        var after = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance == ChatSystem.SignUpGrant - spent);
        Assert.Equal(new Wallet(ChatSystem.SignUpGrant - spent, 0, ChatSystem.SignUpGrant - spent), after);

        // Four requests, however many holds the last one was charged through; no entry of nothing.
        var today = (await user.Client.GetFromJsonAsync<JsonElement>("/api/usage?days=1", Cancel)).GetProperty("series")[0];
        Assert.Equal((4, spent), (today.GetProperty("requests").GetInt32(), today.GetProperty("credits").GetInt64()));
        Assert.DoesNotContain(await ChatSystem.UsageEntriesAsync(user), entry => entry.GetProperty("amount").GetInt64() == 0);
    }

    [Fact]
    public async Task A_burst_the_wallet_pays_for_exactly_is_served_in_full_and_the_next_request_is_refused()
    {
        // Standby holds come in steps (StandbyHolds.Bucket): 80 credits is one, and not a power of two, as they once were
        // (a hold of 128 for each request of 80 left a burst 402s while the wallet had credits: the new-user trial).
        const long Cost = 80;
        const string Message = "Burst [mock:tokens=80]";
        var maxTokens = (int)(Cost - ((await CompleteAsync(await chat.UserAsync(), maxTokens: 1, Message)).Credits - 1));

        var user = await chat.UserAsync();
        Assert.Equal(Cost, (await CompleteAsync(user, maxTokens, Message)).Credits); // the caller is busy from here on
        var burst = (int)((ChatSystem.SignUpGrant - Cost) / Cost);
        var answers = await Task.WhenAll(Enumerable.Range(0, burst).Select(_ => CompleteAsync(user, maxTokens, Message)));

        Assert.All(answers, a => Assert.Equal(Cost, a.Credits));
        var left = ChatSystem.SignUpGrant - (burst + 1) * Cost;
        Assert.Equal(new Wallet(left, 0, left), await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance == left));
        using var refused = await PostAsync(user, maxTokens, Message);
        var error = await refused.ShouldBe(HttpStatusCode.PaymentRequired);
        Assert.Equal($"Required: {Cost}, Available: {left}", error.GetProperty("error").GetProperty("message").GetString());
    }

    private static async Task<(bool MadeAhead, long Credits)> CompleteAsync(TestUser user, int maxTokens, string message = "Hello [mock:tokens=3]")
    {
        var sent = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var response = await PostAsync(user, maxTokens, message);
        var completion = await response.ShouldBe(HttpStatusCode.OK);
        var hold = completion.GetProperty("id").GetString()!["chatcmpl-".Length..];
        var holdMadeAt = Convert.ToInt64(hold[..12], 16);
        var usage = completion.GetProperty("usage");
        return (holdMadeAt < sent, usage.GetProperty("prompt_tokens").GetInt64() + usage.GetProperty("completion_tokens").GetInt64());
    }

    private static Task<HttpResponseMessage> PostAsync(TestUser user, int maxTokens, string message) =>
        user.Client.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "local-model",
            max_tokens = maxTokens,
            messages = new[] { new { role = "user", content = message } },
        }, Cancel);
}
