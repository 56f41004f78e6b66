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
    private readonly SemaphoreSlim control = new(1, 1);
    private CancellationTokenSource stopping = new();
    private volatile bool shuttingDown;
    private Task? supervision;
    private RunningInstance? current;
    private bool everReady;
    private DateTimeOffset? readySince;

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

    public ResourceSnapshot Snapshot() => new(Name, Kind, State, Pid, Endpoint, Restarts, readySince);

    /// <summary>Starts the resource and returns once it is ready, or throws. Cleans up after itself when it fails or is cancelled.</summary>
    protected abstract Task<RunningInstance> LaunchAsync(CancellationToken ct);

    /// <summary>Whether a failure of the very first start ends the AppHost (a server that cannot start) rather than being retried.</summary>
    protected virtual bool IsFatal(Exception error) => true;

    public void Start()
    {
        var run = stopping;
        supervision = Task.Run(() => SuperviseAsync(run.Token));
    }

    /// <summary>From now on an exit is not restarted: the AppHost is stopping and will stop this one in its turn.</summary>
    public void StopRestarting() => shuttingDown = true;

    /// <summary>A person's command (from the dashboard): stop, start or restart. False when it does not apply now.</summary>
    public async Task<bool> CommandAsync(ResourceCommand command)
    {
        await control.WaitAsync();
        try
        {
            var stopped = supervision?.IsCompleted ?? false;
            if (shuttingDown || supervision is null || (command == ResourceCommand.Start) != stopped)
            {
                return false;
            }
            Output.Event(Name, $"{command.ToString().ToLowerInvariant()} requested from the dashboard");
            if (command is ResourceCommand.Stop or ResourceCommand.Restart)
            {
                await StopAsync();
            }
            if (command is ResourceCommand.Start or ResourceCommand.Restart)
            {
                Restarts += command == ResourceCommand.Restart ? 1 : 0;
                stopping = new CancellationTokenSource();
                Start();
            }
            return true;
        }
        finally
        {
            control.Release();
        }
    }

    public async Task StopAsync()
    {
        await stopping.CancelAsync();
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
        readySince = null;
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
                readySince = DateTimeOffset.Now;
                State = ResourceState.Running;
                Output.Event(Name, $"ready in {clock.ElapsedMilliseconds} ms{(Pid is { } pid ? $" (pid {pid})" : "")}");
                everReady = true;
                ready.TrySetResult();

                var uptime = Stopwatch.StartNew();
                var code = await current.Exited.WaitAsync(stop);
                State = ResourceState.Exited;
                readySince = null;
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
