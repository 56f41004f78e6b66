namespace Gateway.Faults.Tests;

/// <summary>
/// Metered chats through the edge from concurrent users (/api/chat and /v1, streamed and not) while a part of the real
/// system is killed or stalled; then, once quiet, per user: charged exactly what their client saw served, nothing
/// charged twice, no hold left, the ledger's audit balanced, and every held credit back within 60 s of the faulted
/// process being back (issue 17's goals). bench/Faults.Bench runs the same, longer.
/// </summary>
public sealed class FaultTests(RunningSystem running)
{
    private const int Users = 12;
    private static readonly TimeSpan HoldsBackWithin = TimeSpan.FromSeconds(60);
    private static readonly PhasePlan Plan = new() { Lead = TimeSpan.FromSeconds(5), Tail = TimeSpan.FromSeconds(3), HoldsBackWithin = HoldsBackWithin };

    private FaultSystem System => running.System;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public Task Billing_killed_under_load_charges_what_clients_saw_served_once_and_frees_every_hold_within_60_s() =>
        SurvivesAsync(Fault.KillBilling, "billing-killed-");

    [Fact]
    public Task Chat_killed_under_load_charges_what_clients_saw_served_once_and_frees_every_hold_within_60_s() =>
        SurvivesAsync(Fault.KillChat, "chat-killed-");

    [Fact]
    public Task RabbitMQ_killed_under_load_charges_what_clients_saw_served_once_and_frees_every_hold_within_60_s() =>
        SurvivesAsync(Fault.KillRabbitMQ, "rabbitmq-killed-");

    [Fact]
    public Task Billing_stalled_for_15_s_under_load_charges_what_clients_saw_served_once_and_frees_every_hold_within_60_s() =>
        SurvivesAsync(Fault.StallBilling, "billing-stalled-");

    [Fact]
    public async Task A_wallet_that_pays_for_exactly_100_requests_serves_100_of_300_sent_at_once_refuses_the_rest_with_402_and_ends_at_zero()
    {
        var race = await OverdraftRace.RunAsync(System, affordable: 100, requests: 300, Ct);
        TestContext.Current.TestOutputHelper?.WriteLine(FiguresTable.Format(race));

        Assert.Multiple(
            () => Assert.True(race.Served == 100, $"Served {race.Served} of 100 affordable. " + FiguresTable.Format(race)),
            () => Assert.True(race.Refused402 == 200, $"Refused {race.Refused402} with 402, 200 expected. " + FiguresTable.Format(race)),
            () => Assert.True(race.LowestBalanceSeen >= 0 && race.LowestAvailableSeen >= 0, FiguresTable.Format(race)),
            () => Assert.Equal((0L, 0L), (race.Final?.Balance ?? -1, race.Final?.Held ?? -1)),
            () => Assert.Equal(new Charges(100, 100 * OverdraftRace.Cost), race.Charged));
    }

    private async Task SurvivesAsync(Fault fault, string userPrefix)
    {
        var users = await System.SignUpAsync(userPrefix, Users, 10_000, Ct);
        var report = await FaultPhase.RunAsync(System, fault, users, Plan, Ct);
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
