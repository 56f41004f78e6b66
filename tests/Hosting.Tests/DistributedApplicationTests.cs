using Gateway.Hosting.Orchestration;
using Gateway.Hosting.Processes;
using Gateway.Hosting.Servers;

namespace Gateway.Hosting.Tests;

public class DistributedApplicationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_application_starts_restarts_a_killed_server_and_stops_when_cancelled_leaving_nothing()
    {
        using var folder = new TempFolder();
        var builder = DistributedApplication.CreateBuilder(["--dashboard-url", "http://127.0.0.1:0", "--data", folder.Path]);
        builder.AddRedis("cache");
        var app = builder.Build();
        using var stop = new CancellationTokenSource();

        var run = app.RunAsync(stop.Token);
        await WaitUntilAsync(() => app.Snapshot().Single().State == ResourceState.Running);
        var first = app.Snapshot().Single().Pid!.Value;
        Assert.Contains($"redis-server {first} ", File.ReadAllText(Path.Combine(folder.Path, "apphost.pids")));
        var firstProcess = ProcessTable.Read(first)!;

        Signals.Send(first, Signals.SIGKILL);
        await WaitUntilAsync(() => app.Snapshot().Single() is { State: ResourceState.Running, Restarts: 1 } s && s.Pid != first);
        var second = ProcessTable.Read(app.Snapshot().Single().Pid!.Value)!;
        Assert.Contains(app.Logs("cache"), l => l.Text.Contains("exited unexpectedly", StringComparison.Ordinal));

        stop.Cancel();
        var code = await run.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.Equal(0, code);
        Assert.Equal(ResourceState.Stopped, app.Snapshot().Single().State);
        Assert.False(ProcessTable.IsAlive(firstProcess.Pid, firstProcess.StartTicks));
        Assert.False(ProcessTable.IsAlive(second.Pid, second.StartTicks));
        Assert.False(File.Exists(Path.Combine(folder.Path, "apphost.pids")));
    }

    [Fact]
    public async Task A_connection_string_given_to_the_AppHost_replaces_the_local_server_and_its_databases_are_created_there()
    {
        using var folder = new TempFolder();
        await using var managed = await PostgresServer.StartAsync(new PostgresServerOptions(folder.Sub("managed")), new TestLogger(), Ct);
        var builder = DistributedApplication.CreateBuilder(["--dashboard-url", "http://127.0.0.1:0", "--data", folder.Sub("data"), $"--ConnectionStrings:postgres={managed.ConnectionString("postgres")}"]);
        builder.AddPostgres("postgres").AddDatabase("ordersdb");
        var app = builder.Build();
        using var stop = new CancellationTokenSource();

        var run = app.RunAsync(stop.Token);
        await WaitUntilAsync(() => app.Snapshot().All(s => s.State == ResourceState.Running));

        Assert.Equal("external", app.Snapshot().Single(s => s.Name == "postgres").Endpoint);
        Assert.Null(app.Snapshot().Single(s => s.Name == "postgres").Pid);
        Assert.Equal(1, await PostgresServerTests.ScalarAsync<int>(managed, "SELECT count(*)::int FROM pg_database WHERE datname = 'ordersdb'"));
        Assert.False(Directory.Exists(folder.Sub("data/postgres")));
        stop.Cancel();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30), Ct));
    }

    [Fact]
    public async Task A_project_that_is_not_built_fails_the_start_with_what_to_run()
    {
        using var folder = new TempFolder();
        var project = Path.Combine(folder.Path, "Never.Built.csproj");
        File.WriteAllText(project, "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><AssemblyName>Renamed</AssemblyName></PropertyGroup></Project>");
        var builder = DistributedApplication.CreateBuilder(["--dashboard-url", "http://127.0.0.1:0", "--data", folder.Sub("data")]);
        builder.AddProject("never", project);
        var app = builder.Build();

        var code = await app.RunAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.Equal(1, code);
        var failure = Assert.Single(app.Logs("never"), l => l.Text.StartsWith("failed:", StringComparison.Ordinal));
        Assert.Contains("Renamed.dll is missing", failure.Text);
        Assert.Contains("dotnet build", failure.Text);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in 30 s");
            await Task.Delay(50, Ct);
        }
    }
}
