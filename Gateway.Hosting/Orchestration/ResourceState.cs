namespace Gateway.Hosting.Orchestration;

public enum ResourceState
{
    Waiting,
    Starting,
    Running,
    Exited,
    Restarting,
    Failed,
    Stopping,
    Stopped,
}

/// <summary>One row of the resource table: what a dashboard shows.</summary>
public sealed record ResourceSnapshot(string Name, string Kind, ResourceState State, int? Pid, string Endpoint, int Restarts, DateTimeOffset? ReadySince = null);

/// <summary>What a person can ask of a resource from the dashboard.</summary>
public enum ResourceCommand
{
    Stop,
    Start,
    Restart,
}

public enum LogKind
{
    /// <summary>The AppHost's own word about the resource: starting, ready, exited, restarting.</summary>
    Event,
    Stdout,
    Stderr,
    /// <summary>A server's own chatter: kept, printed only with GATEWAY_VERBOSE=1.</summary>
    Debug,
}

/// <summary>A line of a resource's output; <paramref name="Sequence"/> grows across all resources, so a reader can ask for what came after it.</summary>
public sealed record LogLine(long Sequence, DateTimeOffset Time, LogKind Kind, string Text);
