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
public sealed record ResourceSnapshot(string Name, string Kind, ResourceState State, int? Pid, string Endpoint, int Restarts);

public enum LogKind
{
    /// <summary>The AppHost's own word about the resource: starting, ready, exited, restarting.</summary>
    Event,
    Stdout,
    Stderr,
    /// <summary>A server's own chatter: kept, printed only with GATEWAY_VERBOSE=1.</summary>
    Debug,
}

public sealed record LogLine(DateTimeOffset Time, LogKind Kind, string Text);
