using System.ClientModel;
using System.Diagnostics;
using Gateway.Testing;
using OpenAI.Chat;

namespace Gateway.Faults.Tests;

/// <summary>
/// Metered chats through the edge from concurrent users (/api/chat and /v1, streamed and not) while a part of the real
/// system is killed or stalled; then, once quiet, per user: charged exactly what their client saw served, nothing
/// charged twice, no hold left, the ledger's audit balanced, and every held credit back within 60 s of the faulted
/// process being back (issue 17's goals). bench/Faults.Bench runs the same, longer.
/// </summary>
public sealed class FaultTests(RunningSystem running) : IClassFixture<RunningSystem>
{
    private const int Users = 12;
    private static readonly TimeSpan HoldsBackWithin = TimeSpan.FromSeconds(60);
    private static readonly PhasePlan Plan = new() { Lead = TimeSpan.FromSeconds(5), Tail = TimeSpan.FromSeconds(3), HoldsBackWithin = HoldsBackWithin };

    private FaultSystem System => running.System;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public Task Billing_killed_under_load_charges_what_clients_saw_served_once_and_frees_every_hold_within_60_s() =>
        SurvivesAsync(System, Fault.KillBilling, "billing-killed-");

    [Fact]
    public Task Chat_killed_under_load_charges_what_clients_saw_served_once_and_frees_every_hold_within_60_s() =>
        SurvivesAsync(System, Fault.KillChat, "chat-killed-");

    [Fact]
    public Task RabbitMQ_killed_under_load_charges_what_clients_saw_served_once_and_frees_every_hold_within_60_s() =>
        SurvivesAsync(System, Fault.KillRabbitMQ, "rabbitmq-killed-");

    [Fact]
    public Task Billing_stalled_for_15_s_under_load_charges_what_clients_saw_served_once_and_frees_every_hold_within_60_s() =>
        SurvivesAsync(System, Fault.StallBilling, "billing-stalled-");

    [Fact]
    public Task A_wallet_that_pays_for_exactly_100_requests_serves_100_of_300_sent_at_once_refuses_the_rest_with_402_and_ends_at_zero() =>
        NeverOverdrawsAsync(System, affordable: 100, requests: 300);

    // A stalled broker confirms nothing: a chat request is refused with 503 once Chat's reservation timeout (5 s) has
    // passed, not held until the broker runs again (after a broker restart on CI a request outwaited its client's minute),
    // and nothing stays held once the broker is back.
    [Fact]
    public async Task A_chat_request_while_RabbitMQ_is_stalled_is_refused_with_503_within_the_reservation_timeout_and_holds_nothing()
    {
        var user = (await System.SignUpAsync("broker-stalled-", 1, 10_000, Ct))[0];
        var client = System.OpenAIClient(user, TimeSpan.FromSeconds(60));
        var stall = System.StallAsync("rabbitmq", TimeSpan.FromSeconds(20), Ct);
        var clock = Stopwatch.StartNew();
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("Anyone there?")], cancellationToken: Ct));
        var answeredAfter = clock.Elapsed;
        TestContext.Current.TestOutputHelper?.WriteLine($"{refused.Status} after {answeredAfter.TotalSeconds:0.0} s of a 20 s stall: {refused.Message}");
        await stall;

        Assert.Equal(503, refused.Status);
        Assert.True(answeredAfter < TimeSpan.FromSeconds(12), $"Answered {answeredAfter.TotalSeconds:0.0} s into a 20 s stall of the broker.");
        var wallet = await Eventually.UntilAsync(() => System.BalanceAsync(user, Ct), w => w is { Held: 0 }, TimeSpan.FromSeconds(60));
        Assert.Equal(new Wallet(10_000, 0, 10_000), wallet);
    }

    // The race, asserted the same against one instance of each service or several (ReplicaTests).
    internal static async Task NeverOverdrawsAsync(FaultSystem system, int affordable, int requests)
    {
        var race = await OverdraftRace.RunAsync(system, affordable, requests, Ct);
        var table = FiguresTable.Format(race);
        TestContext.Current.TestOutputHelper?.WriteLine(table);

        Assert.Multiple(
            () => Assert.True(race.Served == affordable, $"Served {race.Served} of {affordable} affordable. " + table),
            () => Assert.True(race.Refused402 == requests - affordable, $"Refused {race.Refused402} with 402, {requests - affordable} expected. " + table),
            () => Assert.True(race.LowestBalanceSeen >= 0 && race.LowestAvailableSeen >= 0, table),
            () => Assert.Equal((0L, 0L), (race.Final?.Balance ?? -1, race.Final?.Held ?? -1)),
            () => Assert.Equal(new Charges(affordable, affordable * OverdraftRace.Cost), race.Charged));
    }

    // The fault's goals, asserted the same against one instance of each service or several (ReplicaTests).
    internal static async Task SurvivesAsync(FaultSystem system, Fault fault, string userPrefix)
    {
        var users = await system.SignUpAsync(userPrefix, Users, 10_000, Ct);
        var report = await FaultPhase.RunAsync(system, fault, users, Plan, Ct);
        var table = FiguresTable.Format([report]);
        TestContext.Current.TestOutputHelper?.WriteLine(table);

        Assert.Multiple(
            () => Assert.True(report.Served > 0, "Nothing was served.\n" + table),
            () => Assert.True(report.UserMismatches.Count == 0, "Charged ≠ what the client saw served:\n" + table),
            () => Assert.True(report.Ledger.HoldsCapturedTwice + report.Ledger.ServedChargedTwice == 0, "Charged twice:\n" + table),
            () => Assert.True(report.Ledger.ServedUncharged == 0, "Served and never charged:\n" + table),
            () => Assert.True(report.AuditBalanced, "The ledger's audit does not balance:\n" + table),
            () => Assert.True(report.MaxHeldBack <= HoldsBackWithin, $"Held credits not all back within {HoldsBackWithin.TotalSeconds:0} s of the process being back:\n" + table),
            () => Assert.True(report.Ledger.OpenHolds == 0, "Holds still open once quiet:\n" + table));
    }
}
