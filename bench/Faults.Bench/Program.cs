// The long fault run (issue 17): metered chats from concurrent users through the edge of the real system (the AppHost,
// as processes; /api/chat and /v1, streamed and not) while Billing, Chat and RabbitMQ are each killed --rounds times and
// Billing is stalled for 15 s as often, each fault a phase that then waits for the system to go quiet; then an overdraft
// race. Prints the figures table: requests by outcome, charged against what clients saw served, doubles, holds left
// open, the audit, and how long held credits took to come back after each fault. Faults.Tests runs the same, shorter.
// Usage: bench/Faults.Bench/run.sh [--users 20] [--rounds 2] [--requests 10000] [--token-ms 5] [--race 100:300]
using System.Diagnostics;
using Gateway.Testing.Faults;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

var users = Argument("--users", 20);
var rounds = Argument("--rounds", 2);
var requests = Argument("--requests", 10_000);
var tokenMs = Argument("--token-ms", 5);
var race = (Option("--race") ?? "100:300").Split(':').Select(int.Parse).ToArray();

var faults = Enumerable.Repeat(Fault.All, rounds).SelectMany(f => f).ToList();
var plan = new PhasePlan
{
    Lead = TimeSpan.FromSeconds(5),
    Tail = TimeSpan.FromSeconds(5),
    MinRequests = (requests + faults.Count - 1) / faults.Count,
    MaxLoad = TimeSpan.FromMinutes(4),
    Load = new LoadOptions { TokenDelayMs = tokenMs },
};
using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; interrupted.Cancel(); };
var ct = interrupted.Token;

var clock = Stopwatch.StartNew();
Console.WriteLine($"Starting the system (Gateway.AppHost) …");
var system = await FaultSystem.StartAsync(Console.WriteLine, ct);
var reports = new List<PhaseReport>();
RaceReport? raceReport = null;
try
{
    var callers = await system.SignUpAsync("bench", users, 10_000_000, ct);
    Console.WriteLine($"{users} users signed up; {faults.Count} faults, at least {plan.MinRequests} requests each, {tokenMs} ms between tokens");
    foreach (var fault in faults)
    {
        var report = await FaultPhase.RunAsync(system, fault, callers, plan, ct);
        reports.Add(report);
        Console.WriteLine($"  {fault.Name}: {report.Requests} requests, down {report.Timing.Down.TotalSeconds:0.0} s, " +
            $"held back max {report.MaxHeldBack?.TotalSeconds.ToString("0.0") ?? "never"} s, {report.Took.TotalSeconds:0} s in all");
    }
    raceReport = await OverdraftRace.RunAsync(system, race[0], race[1], ct);
}
finally
{
    Console.WriteLine();
    Console.WriteLine(FiguresTable.Format(reports, clock.Elapsed));
    if (raceReport is not null)
    {
        Console.WriteLine(FiguresTable.Format(raceReport));
    }
    await system.DisposeAsync();
    Console.WriteLine(system.LeftBehind.Count == 0
        ? $"Stopped; no process of the run left. {clock.Elapsed.TotalMinutes:0.0} minutes with start and stop."
        : $"Processes still running 30 s after the stop, killed: {string.Join(", ", system.LeftBehind)}");
}

int Argument(string name, int fallback) => Option(name) is { } value ? int.Parse(value) : fallback;

string? Option(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
