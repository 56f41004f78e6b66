using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Gateway.Hosting.Processes;

namespace Gateway.AppHost.Tests;

/// <summary>The whole stack through the real AppHost: start, heal, stop, and clean up after an AppHost that was killed.</summary>
public sealed class AppHostTests : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(180);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly string root;
    private readonly string data;

    public AppHostTests()
    {
        root = Directory.CreateTempSubdirectory("gateway-apphost-").FullName;
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101); // the postgres user must enter it
        data = Path.Combine(root, "data");
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_stack_starts_healthy_restarts_a_killed_service_and_stops_on_SIGTERM_leaving_nothing()
    {
        await using var host = AppHostProcess.Start(data, $"http://127.0.0.1:{FreePort.Next()}");
        await host.WaitForLineAsync("All healthy in", StartTimeout);

        var (status, body) = await ReadinessAsync(host);
        Assert.Equal(HttpStatusCode.OK, status);
        AssertEveryCheckHealthy(body);

        var identity = host.ChildPids()["identity"];
        Assert.Contains(host.Lines, l => l.Contains("identity") && l.Contains(identity.ToString()));
        Signals.Send(identity, Signals.SIGKILL);
        await WaitForReadinessAsync(host, s => s != HttpStatusCode.OK, TimeSpan.FromSeconds(30));
        await WaitForReadinessAsync(host, s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(90));
        Assert.Contains(host.Lines, l => l.Contains("identity") && l.Contains("exited unexpectedly"));
        Assert.NotEqual(identity, host.ChildPids()["identity"]);

        var stack = host.Descendants();
        Assert.Contains(stack, p => p.Command == "postgres");
        Assert.Contains(stack, p => p.Command == "redis-server");
        Assert.Contains(stack, p => p.Command == "beam.smp");
        Assert.Contains(stack, p => p.Command == "epmd");
        var children = host.ChildPids();
        Assert.All(new[] { "identity", "keys", "billing", "chat", "devices", "edge" },
            name => Assert.Contains(stack, p => p.Pid == children[name] && p.Command == "dotnet"));
        host.Process.Signal(Signals.SIGTERM);
        var code = await host.Process.Exited.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        Assert.Equal(0, code);
        AssertNoneAlive(stack);
        Assert.False(File.Exists(Path.Combine(data, "apphost.pids")));
    }

    [Fact]
    public async Task An_AppHost_killed_with_SIGKILL_leaves_ghosts_that_the_next_one_removes_before_starting_on_the_same_data()
    {
        List<ProcessEntry> ghosts;
        await using (var first = AppHostProcess.Start(data, $"http://127.0.0.1:{FreePort.Next()}"))
        {
            await first.WaitForLineAsync("All healthy in", StartTimeout);
            ghosts = [.. first.Descendants()];
            Signals.Send(first.Process.Id, Signals.SIGKILL);
            await first.Process.Exited.WaitAsync(TimeSpan.FromSeconds(10), Ct);
            Assert.Contains(ghosts, g => g.Command == "postgres" && ProcessTable.IsAlive(g.Pid, g.StartTicks));
        }

        await using var second = AppHostProcess.Start(data, $"http://127.0.0.1:{FreePort.Next()}");
        await second.WaitForLineAsync("left running by an AppHost that did not stop", TimeSpan.FromSeconds(60));
        await second.WaitForLineAsync("All healthy in", StartTimeout);

        AssertNoneAlive(ghosts);
        Assert.DoesNotContain(second.Lines, l => l.Contains("created database")); // the data survived
        var (status, _) = await ReadinessAsync(second);
        Assert.Equal(HttpStatusCode.OK, status);
        var stack = second.Descendants();
        second.Process.Signal(Signals.SIGTERM);
        Assert.Equal(0, await second.Process.Exited.WaitAsync(TimeSpan.FromSeconds(60), Ct));
        AssertNoneAlive(stack);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task<(HttpStatusCode Status, string Body)> ReadinessAsync(AppHostProcess host)
    {
        try
        {
            using var response = await Http.GetAsync($"{host.EdgeUrl}/health/readiness", Ct);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
        }
        catch (HttpRequestException e)
        {
            return (0, e.Message);
        }
    }

    private static async Task WaitForReadinessAsync(AppHostProcess host, Func<HttpStatusCode, bool> expected, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var (status, body) = await ReadinessAsync(host);
        while (!expected(status))
        {
            Assert.True(clock.Elapsed < timeout, $"Edge readiness stayed {(int)status} for {timeout.TotalSeconds:0} s: {body}");
            await Task.Delay(100, Ct);
            (status, body) = await ReadinessAsync(host);
        }
    }

    private static void AssertEveryCheckHealthy(string body)
    {
        using var json = JsonDocument.Parse(body);
        var checks = json.RootElement.GetProperty("checks").EnumerateObject().ToList();
        Assert.NotEmpty(checks);
        Assert.All(checks, c => Assert.Equal("healthy", c.Value.GetProperty("status").GetString()));
    }

    private static void AssertNoneAlive(IEnumerable<ProcessEntry> processes)
    {
        var alive = processes.Where(p => ProcessTable.IsAlive(p.Pid, p.StartTicks)).Select(p => $"{p.Command} ({p.Pid})").ToList();
        Assert.True(alive.Count == 0, "Still running: " + string.Join(", ", alive));
    }
}
