using System.Diagnostics;

namespace Gateway.Testing.Faults;

/// <summary>A fault injected into the running system; answers when it is over and the process is back.</summary>
public sealed record Fault(string Name, Func<FaultSystem, CancellationToken, Task<FaultTiming>> InjectAsync)
{
    public static readonly Fault KillBilling = new("kill -9 billing", (s, ct) => s.KillAsync("billing", ct));
    public static readonly Fault KillChat = new("kill -9 chat", (s, ct) => s.KillAsync("chat", ct));
    public static readonly Fault KillRabbitMQ = new("kill -9 rabbitmq", (s, ct) => s.KillAsync("rabbitmq", ct));
    public static readonly Fault StallBilling = new("stall billing 15 s", (s, ct) => s.StallAsync("billing", TimeSpan.FromSeconds(15), ct));

    public static readonly IReadOnlyList<Fault> All = [KillBilling, KillChat, KillRabbitMQ, StallBilling];

    public override string ToString() => Name;
}

public sealed record PhasePlan
{
    /// <summary>Load before the fault.</summary>
    public TimeSpan Lead { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Load after the faulted process is back, before the load stops.</summary>
    public TimeSpan Tail { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The load goes on past the tail until this many requests were sent (or MaxLoad passed).</summary>
    public int MinRequests { get; init; }

    public TimeSpan MaxLoad { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>The goal: every hold resolved this long after the faulted process was back (issue 17).</summary>
    public TimeSpan HoldsBackWithin { get; init; } = TimeSpan.FromSeconds(60);

    public LoadOptions Load { get; init; } = new();
}

/// <summary>What one fault under load did to the users' money, measured after the system went quiet.</summary>
public sealed record PhaseReport(
    string Fault,
    FaultTiming Timing,
    TimeSpan Took,
    int Users,
    IReadOnlyDictionary<Outcome, int> Outcomes,
    IReadOnlyDictionary<string, int> Details,
    long Served,
    long ServedCredits,
    long Charged,
    long ChargedCredits,
    IReadOnlyList<string> UserMismatches,
    LedgerFacts Ledger,
    bool AuditBalanced,
    string Audit,
    IReadOnlyList<TimeSpan?> HeldBackAfter,
    long StillHeld)
{
    public int Requests => Outcomes.Values.Sum();

    public int Count(Outcome outcome) => Outcomes.GetValueOrDefault(outcome);

    public int UsersNotBack => HeldBackAfter.Count(t => t is null);

    public TimeSpan? MaxHeldBack => UsersNotBack > 0 || HeldBackAfter.Count == 0 ? null : HeldBackAfter.Max();

    public TimeSpan? MedianHeldBack
    {
        get
        {
            var sorted = HeldBackAfter.Select(t => t ?? TimeSpan.MaxValue).Order().ToList();
            return sorted.Count == 0 || sorted[sorted.Count / 2] == TimeSpan.MaxValue ? null : sorted[sorted.Count / 2];
        }
    }
}

public static class FaultPhase
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan StaysQuiet = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Load, the fault, load until the tail has passed, then quiet: how long until each user's held credits came back
    /// (held = 0 for good, measured from when the faulted process was back), then per user: what they were charged against what
    /// their client saw served, holds left open or captured twice, and the ledger's audit.
    /// </summary>
    public static async Task<PhaseReport> RunAsync(FaultSystem system, Fault fault, IReadOnlyList<FaultUser> users, PhasePlan plan, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var before = await Task.WhenAll(users.Select(u => ChargesAsync(system, u, ct)));

        var load = MeteredLoad.Start(system, users, plan.Load);
        FaultTiming timing;
        IReadOnlyDictionary<FaultUser, UserTally> tallies;
        try
        {
            await Task.Delay(plan.Lead, ct);
            timing = await fault.InjectAsync(system, ct);
            while (clock.Elapsed < plan.MaxLoad && (DateTimeOffset.UtcNow < timing.BackAt + plan.Tail || load.Requests < plan.MinRequests))
            {
                await Task.Delay(100, ct);
            }
        }
        finally
        {
            tallies = await load.StopAsync();
        }
        var stopped = DateTimeOffset.UtcNow;

        // Quiet: every user's held credits back and staying back for a few seconds (a hold made late, after they had
        // come back, counts), or the goal's time is up (never less than a few seconds after the load stopped).
        var deadline = Max(timing.BackAt + plan.HoldsBackWithin, stopped + TimeSpan.FromSeconds(10));
        var heldBack = new DateTimeOffset?[users.Count];
        var wallets = new Wallet?[users.Count];
        DateTimeOffset? quietSince = null;
        while (true)
        {
            var now = DateTimeOffset.UtcNow;
            wallets = await Task.WhenAll(users.Select(u => system.BalanceAsync(u, ct)));
            for (var i = 0; i < users.Count; i++)
            {
                heldBack[i] = wallets[i] switch
                {
                    { Held: 0 } => heldBack[i] ?? now,
                    null => heldBack[i], // Billing did not answer this time
                    _ => null,
                };
            }
            quietSince = heldBack.All(t => t is not null) ? quietSince ?? now : null;
            if (now - quietSince >= StaysQuiet || now > deadline)
            {
                break;
            }
            await Task.Delay(Poll, ct);
        }

        // Captures that travel over the broker may land after the holds were let go: give them a little longer.
        var served = users.Select(u => tallies[u]).ToList();
        var after = await Task.WhenAll(users.Select(u => ChargesAsync(system, u, ct)));
        var settle = Stopwatch.StartNew();
        while (Enumerable.Range(0, users.Count).Any(i => after[i].Count - before[i].Count != served[i].Served) && settle.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(500, ct);
            after = await Task.WhenAll(users.Select(u => ChargesAsync(system, u, ct)));
        }

        // Every answer served is charged, once. The one charge a client may not have seen served: an answer Chat had
        // completed and recorded (its usage commits before the last bytes are written) when it was killed; the client saw
        // the connection break (services/Chat/README.md, "Chat dies mid-stream"). So a user may be charged for at most as
        // many more requests as broke for them, never fewer than they were served.
        var mismatches = new List<string>();
        for (var i = 0; i < users.Count; i++)
        {
            var (count, credits) = (after[i].Count - before[i].Count, after[i].Credits - before[i].Credits);
            var broken = served[i].Results.Count(r => r.Outcome is Outcome.Broken or Outcome.Other);
            if (count < served[i].Served || count > served[i].Served + broken || credits < served[i].ServedCredits
                || (count == served[i].Served && credits != served[i].ServedCredits))
            {
                mismatches.Add($"{users[i].Name}: served {served[i].Served} ({served[i].ServedCredits} credits), {broken} broke, charged {count} ({credits} credits)");
            }
        }
        var reservations = served.SelectMany(t => t.Results).Where(r => r.Outcome == Outcome.Served && r.Reservation is not null).Select(r => r.Reservation!.Value);
        var ledger = await system.LedgerFactsAsync(users, reservations, ct);
        var audit = await system.AuditAsync(ct);
        var results = served.SelectMany(t => t.Results).ToList();

        return new PhaseReport(
            fault.Name, timing, clock.Elapsed, users.Count,
            results.GroupBy(r => r.Outcome).ToDictionary(g => g.Key, g => g.Count()),
            results.Where(r => r.Outcome is not Outcome.Served and not Outcome.Refused402)
                .GroupBy(r => $"{r.Outcome} {r.Kind}: {r.Detail}").ToDictionary(g => g.Key, g => g.Count()),
            served.Sum(t => t.Served), served.Sum(t => t.ServedCredits),
            after.Sum(c => c.Count) - before.Sum(c => c.Count), after.Sum(c => c.Credits) - before.Sum(c => c.Credits),
            mismatches, ledger,
            audit.GetProperty("balanced").GetBoolean(), audit.ToString(),
            [.. heldBack.Select(t => t - timing.BackAt)],
            wallets.Sum(w => w?.Held ?? 0));
    }

    private static async Task<Charges> ChargesAsync(FaultSystem system, FaultUser user, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await system.ChargesAsync(user, ct) is { } charges)
            {
                return charges;
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException($"Billing did not answer {user.Name}'s usage for 30 s.");
            }
            await Task.Delay(200, ct);
        }
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
