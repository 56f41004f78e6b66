namespace Gateway.Hosting.Orchestration;

/// <summary>One run of a resource, from ready to stopped: its main pid, its end, and how to stop it.</summary>
internal sealed class RunningInstance(int? pid, Task<int> exited, Func<Task> stop)
{
    public int? Pid { get; } = pid;
    /// <summary>Completes with the exit code when the process ends by itself (never, for an external resource).</summary>
    public Task<int> Exited { get; } = exited;

    public Task StopAsync() => stop();

    /// <summary>A resource we do not run: nothing to stop, never exits.</summary>
    public static RunningInstance External() => new(null, new TaskCompletionSource<int>().Task, () => Task.CompletedTask);
}
