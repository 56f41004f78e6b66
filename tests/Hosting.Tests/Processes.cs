using Gateway.Hosting.Processes;

namespace Gateway.Hosting.Tests;

/// <summary>Snapshots of the processes a server started, to prove none is left after it stops.</summary>
internal static class Processes
{
    public static IReadOnlyList<ProcessEntry> Of(params ChildProcess[] roots) =>
        [.. roots.SelectMany(r => ProcessTable.TreeAndGroup(r.Id, r.StartTicks))];

    public static void AssertAllGone(IEnumerable<ProcessEntry> processes)
    {
        var alive = Alive(processes);
        Assert.True(alive.Count == 0, "Still running: " + string.Join(", ", alive));
    }

    /// <summary>For processes that end by themselves once they notice their parent died (Postgres's backends do).</summary>
    public static async Task AssertAllGoneWithinAsync(IEnumerable<ProcessEntry> processes, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (Alive(processes).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        AssertAllGone(processes);
    }

    private static List<string> Alive(IEnumerable<ProcessEntry> processes) =>
        [.. processes.Where(p => ProcessTable.IsAlive(p.Pid, p.StartTicks)).Select(p => $"{p.Pid} {p.Command}")];
}
