using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting.Orchestration;

/// <summary>
/// Runs one resource: launches it, reports it ready, relaunches it with backoff when it exits by itself, and stops it
/// on request. What "launch" means (a server, a project) is up to the subclass.
/// </summary>
internal abstract class ResourceRunner(Resource resource, ResourceOutput output)
{
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource stopping = new();
    private volatile bool shuttingDown;
    private Task? supervision;
    private RunningInstance? current;
    private bool everReady;

    public Resource Resource { get; } = resource;
    public string Name => Resource.Name;
    public abstract string Kind { get; }
    /// <summary>Where it answers, for the table.</summary>
    public abstract string Endpoint { get; }
    public ResourceState State { get; private set; } = ResourceState.Waiting;
    public int? Pid => current?.Pid;
    public int Restarts { get; private set; }
    /// <summary>Completes the first time the resource is ready; faults when its first start failed for good.</summary>
    public Task Ready => ready.Task;

    /// <summary>Resources that must be ready before this one starts.</summary>
    public List<ResourceRunner> StartsAfter { get; } = [];
    /// <summary>Resources that must still run while this one stops (its start dependencies and the projects it calls).</summary>
    public List<ResourceRunner> StopBeforeThese { get; } = [];

    protected ResourceOutput Output { get; } = output;
    protected ILogger Logger { get; } = output.Logger(resource.Name);

    public ResourceSnapshot Snapshot() => new(Name, Kind, State, Pid, Endpoint, Restarts);

    /// <summary>Starts the resource and returns once it is ready, or throws. Cleans up after itself when it fails or is cancelled.</summary>
    protected abstract Task<RunningInstance> LaunchAsync(CancellationToken ct);

    /// <summary>Whether a failure of the very first start ends the AppHost (a server that cannot start) rather than being retried.</summary>
    protected virtual bool IsFatal(Exception error) => true;

    public void Start() => supervision = Task.Run(() => SuperviseAsync(stopping.Token));

    /// <summary>From now on an exit is not restarted: the AppHost is stopping and will stop this one in its turn.</summary>
    public void StopRestarting() => shuttingDown = true;

    public async Task StopAsync()
    {
        stopping.Cancel();
        if (supervision is not null)
        {
            await supervision;
        }
        if (current is { } instance)
        {
            State = ResourceState.Stopping;
            var clock = Stopwatch.StartNew();
            await instance.StopAsync();
            Output.Event(Name, $"stopped in {clock.ElapsedMilliseconds} ms");
            current = null;
        }
        State = ResourceState.Stopped;
    }

    private async Task SuperviseAsync(CancellationToken stop)
    {
        var backoff = new RestartBackoff();
        while (!stop.IsCancellationRequested)
        {
            State = everReady || Restarts > 0 ? ResourceState.Restarting : ResourceState.Starting;
            var clock = Stopwatch.StartNew();
            try
            {
                current = await LaunchAsync(stop);
                State = ResourceState.Running;
                Output.Event(Name, $"ready in {clock.ElapsedMilliseconds} ms{(Pid is { } pid ? $" (pid {pid})" : "")}");
                everReady = true;
                ready.TrySetResult();

                var uptime = Stopwatch.StartNew();
                var code = await current.Exited.WaitAsync(stop);
                State = ResourceState.Exited;
                if (shuttingDown)
                {
                    Output.Event(Name, $"exited with code {code} while the AppHost is stopping");
                    return;
                }
                Output.Event(Name, $"exited unexpectedly with code {code} after {uptime.Elapsed.TotalSeconds:0.0} s");
                await current.StopAsync();
                current = null;
                backoff.RanFor(uptime.Elapsed);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (!everReady && IsFatal(e))
            {
                State = ResourceState.Failed;
                Output.Event(Name, $"failed: {e.Message}");
                ready.TrySetException(e);
                return;
            }
            catch (Exception e)
            {
                State = ResourceState.Failed;
                Output.Event(Name, $"failed: {e.Message}");
            }

            if (shuttingDown)
            {
                return;
            }
            Restarts++;
            var delay = backoff.Next();
            Output.Event(Name, $"restarting in {delay.TotalSeconds:0} s (restart #{Restarts})");
            try
            {
                await Task.Delay(delay, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
