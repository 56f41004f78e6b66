using System.Diagnostics;

namespace Gateway.Hosting.Orchestration;

/// <summary>
/// Turns the declared resources into runners, starts them in dependency order (independent ones in parallel),
/// and stops them in the reverse order.
/// </summary>
internal sealed class Orchestrator
{
    private readonly List<ResourceRunner> runners = [];
    private readonly Dictionary<IResource, ResourceRunner> byResource = [];
    private readonly IReadOnlyList<Resource> resources;

    /// <param name="otlpEndpoint">Where projects send their OpenTelemetry (the dashboard's receiver), if anywhere.</param>
    public Orchestrator(IReadOnlyList<Resource> resources, string dataDirectory, string? otlpEndpoint = null)
    {
        this.resources = resources;
        var verbose = Environment.GetEnvironmentVariable("GATEWAY_VERBOSE") is "1" or "true";
        Output = new ResourceOutput(resources.Where(r => r is not ParameterResource).Select(r => r.Name.Length).Append("apphost".Length).Max(), verbose);
        foreach (var resource in resources)
        {
            ResourceRunner? runner = resource switch
            {
                PostgresServerResource postgres => new PostgresRunner(postgres, dataDirectory, Output),
                RedisResource redis => new RedisRunner(redis, dataDirectory, Output),
                RabbitMQServerResource rabbit => new RabbitMqRunner(rabbit, dataDirectory, Output),
                ProjectResource project => new ProjectRunner(project, Output, RunnerOf, otlpEndpoint),
                PostgresDatabaseResource => null, // created by its server's runner
                ParameterResource => null, // a value, nothing to run
                _ => throw new NotSupportedException($"{resource.GetType().Name} '{resource.Name}' cannot be run."),
            };
            if (runner is not null)
            {
                runners.Add(runner);
                byResource[resource] = runner;
            }
        }
        foreach (var database in resources.OfType<PostgresDatabaseResource>())
        {
            byResource[database] = byResource[database.Server];
        }
        DependencyGraph.Link(runners, RunnerOf);
    }

    public ResourceOutput Output { get; }

    /// <summary>Starts everything; true when all are ready, false when one failed for good (everything is then to be stopped).</summary>
    /// <param name="dashboardLink">The dashboard's login link, printed again with the public URL once all is up.</param>
    public async Task<bool> StartAsync(CancellationToken ct, string? dashboardLink = null)
    {
        var clock = Stopwatch.StartNew();
        var starting = runners.Select(r => StartWhenDependenciesReadyAsync(r, ct)).ToList();
        try
        {
            while (starting.Count > 0)
            {
                var done = await Task.WhenAny(starting);
                starting.Remove(done);
                await done;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Output.Event("apphost", "start-up interrupted");
            return false;
        }
        catch (Exception e)
        {
            Output.Event("apphost", $"start-up failed: {e.Message.Split('\n')[0]}");
            return false;
        }

        ResourceOutput.Raw("");
        ResourceOutput.Raw(StatusTable.Format(Snapshot()));
        ResourceOutput.Raw("");
        if (runners.OfType<ProjectRunner>().FirstOrDefault(p => ((ProjectResource)p.Resource).ExternalHttpUrl is not null) is { } entry)
        {
            ResourceOutput.Raw($"Public URL: {entry.Url}");
        }
        if (dashboardLink is not null)
        {
            ResourceOutput.Raw($"Dashboard:  {dashboardLink}");
        }
        ResourceOutput.Raw($"All healthy in {clock.Elapsed.TotalSeconds:0.0} s. Ctrl+C stops everything.");
        return true;
    }

    /// <summary>Stops every resource after everything that depends on it has stopped.</summary>
    public async Task StopAsync()
    {
        var clock = Stopwatch.StartNew();
        Output.Event("apphost", "stopping");
        foreach (var runner in runners)
        {
            runner.StopRestarting();
        }
        var stopped = new Dictionary<ResourceRunner, Task>();
        Task StopInOrder(ResourceRunner runner)
        {
            lock (stopped)
            {
                if (!stopped.TryGetValue(runner, out var task))
                {
                    var dependents = runners.Where(r => r.StopBeforeThese.Contains(runner)).ToList();
                    task = Task.Run(async () =>
                    {
                        await Task.WhenAll(dependents.Select(StopInOrder));
                        await runner.StopAsync();
                    });
                    stopped[runner] = task;
                }
                return task;
            }
        }
        await Task.WhenAll(runners.Select(StopInOrder));
        Output.Event("apphost", $"stopped everything in {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>Servers, then databases, then projects, each in the order they were declared.</summary>
    public IReadOnlyList<ResourceSnapshot> Snapshot() =>
        [.. resources.Where(r => r is not ParameterResource).OrderBy(r => r switch { ProjectResource => 2, PostgresDatabaseResource => 1, _ => 0 }).Select(r => r is PostgresDatabaseResource db
            ? byResource[r].Snapshot() with { Name = db.Name, Kind = "database", Pid = null, Endpoint = $"{db.Server.Name}/{db.DatabaseName}" }
            : byResource[r].Snapshot())];

    public IReadOnlyList<LogLine> Logs(string resource, long after = 0) => Output.Lines(resource, after);

    /// <summary>Stops, starts or restarts a resource by name; null when there is no such resource, false when the command does not apply now.</summary>
    public async Task<bool?> CommandAsync(string name, ResourceCommand command) =>
        runners.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)) is { } runner
            ? await runner.CommandAsync(command)
            : null;

    /// <summary>The URL of each project's readiness check, by resource name.</summary>
    public IReadOnlyDictionary<string, string> HealthUrls() =>
        runners.OfType<ProjectRunner>().ToDictionary(r => r.Name, r => r.HealthUrl, StringComparer.OrdinalIgnoreCase);

    /// <summary>The local RabbitMQ's management API, when the AppHost runs one.</summary>
    public Uri? RabbitMqManagementUri => runners.OfType<RabbitMqRunner>().Select(r => r.ManagementUri).FirstOrDefault(u => u is not null);

    private ResourceRunner RunnerOf(IResource resource) =>
        byResource.TryGetValue(resource, out var runner) ? runner : throw new AppHostException($"'{resource.Name}' is referenced but was never added to the AppHost.");

    private async Task StartWhenDependenciesReadyAsync(ResourceRunner runner, CancellationToken ct)
    {
        if (runner.StartsAfter.Count > 0)
        {
            Output.Event(runner.Name, $"waiting for {string.Join(", ", runner.StartsAfter.Select(d => d.Name))}");
            await Task.WhenAll(runner.StartsAfter.Select(d => d.Ready)).WaitAsync(ct);
        }
        Output.Event(runner.Name, "starting");
        runner.Start();
        await runner.Ready.WaitAsync(ct);
    }
}
