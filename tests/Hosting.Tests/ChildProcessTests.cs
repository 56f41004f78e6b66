using System.Diagnostics;
using Gateway.Hosting.Processes;

namespace Gateway.Hosting.Tests;

public class ChildProcessTests
{
    [Fact]
    public async Task Stopping_a_shell_also_ends_the_background_job_it_left_behind()
    {
        var child = ChildProcess.Start(new ChildProcessOptions("/bin/sh", ["-c", "sleep 300 & echo started; wait"]));
        await WaitForOutputAsync(child, "started");
        var tree = Processes.Of(child);
        Assert.Contains(tree, p => p.Command == "sleep");

        await child.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(5));

        Processes.AssertAllGone(tree);
    }

    [Fact]
    public async Task A_child_that_ignores_SIGTERM_is_killed_after_the_timeout()
    {
        var child = ChildProcess.Start(new ChildProcessOptions("/bin/sh", ["-c", "trap '' TERM; echo started; while true; do sleep 1; done"]));
        await WaitForOutputAsync(child, "started");
        var tree = Processes.Of(child);
        var clock = Stopwatch.StartNew();

        var graceful = await child.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(1));

        Assert.False(graceful);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"took {clock.Elapsed}");
        Assert.True(child.HasExited);
        Processes.AssertAllGone(tree);
    }

    [Fact]
    public async Task Exit_is_seen_while_an_orphan_still_holds_the_output_pipe_and_the_orphan_is_then_killed()
    {
        var child = ChildProcess.Start(new ChildProcessOptions("/bin/sh", ["-c", "sleep 300 & echo $!"]));
        await child.Exited.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        await WaitForOutputAsync(child, "");
        var orphan = int.Parse(child.RecentOutput[0]);
        Assert.True(ProcessTable.IsAlive(orphan));

        child.Kill();

        await WaitUntilAsync(() => !ProcessTable.IsAlive(orphan));
    }

    [Fact]
    public async Task Output_lines_reach_the_callback_with_their_stream()
    {
        var lines = new List<(string, bool)>();
        var (code, _) = await ChildProcess.RunAsync(new ChildProcessOptions("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"])
        {
            OnOutput = (line, isError) => { lock (lines) { lines.Add((line, isError)); } },
        }, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal(3, code);
        await WaitUntilAsync(() => { lock (lines) { return lines.Count == 2; } });
        Assert.Contains(("out", false), lines);
        Assert.Contains(("err", true), lines);
    }

    [Fact]
    public async Task A_child_runs_in_its_own_process_group_so_a_terminal_Ctrl_C_does_not_reach_it()
    {
        await using var child = ChildProcess.Start(new ChildProcessOptions("/bin/sleep", ["300"]));
        await WaitUntilAsync(() => ProcessTable.Read(child.Id)?.Command == "sleep");

        Assert.Equal(child.Id, ProcessTable.Read(child.Id)!.ProcessGroup);
        Assert.NotEqual(ProcessTable.Read(Environment.ProcessId)!.ProcessGroup, child.Id);
    }

    [Fact]
    public void Free_ports_are_distinct_and_bindable()
    {
        var ports = Enumerable.Range(0, 20).Select(_ => FreePort.Next()).ToList();

        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.All(ports, p => Assert.True(FreePort.IsFree(p)));
    }

    [Fact]
    public async Task A_port_handed_out_is_claimed_against_other_processes_until_this_one_ends()
    {
        var port = FreePort.Next();

        var (code, _) = await ChildProcess.RunAsync(
            new ChildProcessOptions("/usr/bin/flock", ["--nonblock", "--conflict-exit-code", "7", FreePort.ClaimPath(port), "true"]),
            TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal(7, code);
    }

    private static Task WaitForOutputAsync(ChildProcess child, string text) =>
        WaitUntilAsync(() => child.RecentOutput.Any(l => l.Contains(text, StringComparison.Ordinal)));

    internal static async Task WaitUntilAsync(Func<bool> condition, int seconds = 10)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(seconds), "condition not met in time");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
