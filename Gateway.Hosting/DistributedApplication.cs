using Gateway.Hosting.Dashboard;
using Gateway.Hosting.Orchestration;
using Gateway.Hosting.Processes;
using Microsoft.Extensions.Configuration;

namespace Gateway.Hosting;

/// <summary>
/// The running AppHost: starts every resource in dependency order, prints where things are, restarts projects that
/// die, serves the ops dashboard, and on Ctrl+C, SIGTERM or SIGHUP stops everything in reverse order with nothing left
/// behind.
/// </summary>
public sealed class DistributedApplication
{
    private const string DefaultDashboardUrl = "http://localhost:18888";
    private readonly Orchestrator orchestrator;
    private readonly DashboardServer? dashboard;
    private readonly string dataDirectory;

    /// <param name="configuration">GATEWAY_DASHBOARD_URL (--dashboard-url) moves the dashboard; "off" runs without one.</param>
    internal DistributedApplication(IReadOnlyList<Resource> resources, string dataDirectory, IConfiguration configuration)
    {
        this.dataDirectory = dataDirectory;
        var dashboardUrl = configuration["GATEWAY_DASHBOARD_URL"] is { Length: > 0 } configured ? configured : DefaultDashboardUrl;
        if (dashboardUrl.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            orchestrator = new Orchestrator(resources, dataDirectory);
            return;
        }
        var otlpEndpoint = $"http://127.0.0.1:{FreePort.Next()}";
        orchestrator = new Orchestrator(resources, dataDirectory, otlpEndpoint);
        dashboard = DashboardServer.Create(dashboardUrl, otlpEndpoint, orchestrator, configuration);
    }

    public static DistributedApplicationBuilder CreateBuilder(string[] args) => new(args);

    /// <summary>The state of every resource now (for a dashboard).</summary>
    public IReadOnlyList<ResourceSnapshot> Snapshot() => orchestrator.Snapshot();

    /// <summary>The last lines a resource printed or logged (bounded).</summary>
    public IReadOnlyList<LogLine> Logs(string resource) => orchestrator.Logs(resource);

    /// <summary>Runs until a stop signal; the exit code is 1 when start-up failed.</summary>
    public void Run() => Environment.ExitCode = RunAsync().GetAwaiter().GetResult();

    public async Task<int> RunAsync(CancellationToken ct = default)
    {
        using var processes = ProcessScope.Begin();
        using var shutdown = ShutdownSignals.Register(ct, processes, orchestrator.Output);
        try
        {
            using var pids = PidFile.Open(dataDirectory, processes, orchestrator.Output);
            try
            {
                if (dashboard is not null)
                {
                    await dashboard.StartAsync(shutdown.Token);
                    orchestrator.Output.Event("apphost", $"dashboard: {dashboard.LoginUrl}");
                }
                if (!await orchestrator.StartAsync(shutdown.Token, dashboard?.LoginUrl))
                {
                    return shutdown.Token.IsCancellationRequested ? 0 : 1;
                }
                await Task.Delay(Timeout.Infinite, shutdown.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                return 0;
            }
            finally
            {
                await orchestrator.StopAsync();
                if (dashboard is not null)
                {
                    await dashboard.DisposeAsync();
                }
                // Whatever still runs (a child that ignored everything, an orphan in a child's group) dies now.
                if (processes.KillAll() is { Count: > 0 } leftovers)
                {
                    orchestrator.Output.Event("apphost", $"killed {leftovers.Count} leftover process(es): {string.Join(", ", leftovers.Select(e => $"{e.Command} ({e.Pid})"))}");
                }
            }
        }
        catch (AppHostException e)
        {
            orchestrator.Output.Event("apphost", "error: " + e.Message);
            return 1;
        }
    }
}
