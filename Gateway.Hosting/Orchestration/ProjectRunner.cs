using System.Net;
using Gateway.Hosting.Processes;

namespace Gateway.Hosting.Orchestration;

/// <summary>Runs a project's built dll with `dotnet`, ready when its /health/readiness answers 200.</summary>
internal sealed class ProjectRunner(ProjectResource resource, ResourceOutput output, Func<IResource, ResourceRunner> runnerOf, string? otlpEndpoint = null)
    : ResourceRunner(resource, output)
{
    public string Url => resource.Url;
    public string HealthUrl => Url + resource.HealthCheckPath;

    public override string Kind => "project";
    public override string Endpoint => Url;

    // A project that cannot be found or is not built will not get better by retrying; one that crashes might.
    protected override bool IsFatal(Exception error) => error is AppHostException;

    protected override async Task<RunningInstance> LaunchAsync(CancellationToken ct)
    {
        var dll = ProjectBuildOutput.DllPath(resource);
        WarnIfTaken();
        var startup = new StartupProbeLog();
        var process = ChildProcess.Start(new ChildProcessOptions(DotNetHost.Path, [dll])
        {
            Label = Name,
            WorkingDirectory = Path.GetDirectoryName(resource.ProjectPath),
            Environment = ProjectEnvironment.For(resource, Url, runnerOf, otlpEndpoint),
            OnOutput = (line, isError) =>
            {
                if (startup.IsProbeAnswer(line)) Output.Debug(Name, line);
                else Output.Line(Name, line, isError);
            },
        });
        try
        {
            await HealthProbe.WaitReadyAsync(Name, HealthUrl, process, Output, ct);
            startup.Ready();
            return new RunningInstance(process.Id, process.Exited, async () =>
            {
                if (!await process.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(10)))
                {
                    Output.Event(Name, "did not stop within 10 s of SIGTERM: killed");
                }
            });
        }
        catch
        {
            await process.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(10));
            throw;
        }
    }

    private void WarnIfTaken()
    {
        if (resource.ExternalHttpUrl is not null && Uri.TryCreate(Url, UriKind.Absolute, out var uri)
            && (uri.IsLoopback ? !FreePort.IsFree(uri.Port) : !FreePort.IsFree(uri.Port, IPAddress.Any)))
        {
            Output.Event(Name, $"warning: port {uri.Port} of {Url} is already in use by another process; give this project another URL");
        }
    }

    // While a project starts, our own readiness probes find it not ready yet (its message bus starts after it
    // listens), and its health-check service logs each as an error: alarming on a first run and expected, since the
    // AppHost says "ready in …" itself. Until then those entries (a "fail: …DefaultHealthCheckService[103]" line and
    // its indented lines) are kept, not printed; afterwards every unhealthy check is printed as it comes.
    private sealed class StartupProbeLog
    {
        private volatile bool ready;
        private bool inEntry;

        public void Ready() => ready = true;

        public bool IsProbeAnswer(string line)
        {
            if (ready) return false;
            if (line.Contains("DefaultHealthCheckService[", StringComparison.Ordinal)) return inEntry = true;
            return inEntry = inEntry && line.StartsWith("      ", StringComparison.Ordinal);
        }
    }
}
