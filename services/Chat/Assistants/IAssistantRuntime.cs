namespace Gateway.Chat.Assistants;

// Where users' assistants run: one machine's processes (LocalProcessRuntime, the default) or a cluster's pods. A runtime
// only carries out and reports; the lifecycle's policy (statuses, idle stop, restarts with back-off, failed after
// repeated crashes) is AssistantLifecycle's, the same whichever runtime runs them. Every method is idempotent and
// safe to call from several requests at once for the same user.
public interface IAssistantRuntime
{
    // Makes the user's assistant run with this start's secret, creating its workspace the first time and keeping the
    // files already in it. Already running (or starting) with the same secret: nothing happens. Returns once it has
    // been asked to run; GetAsync says when it answers.
    Task StartAsync(AssistantLaunch launch, CancellationToken cancellationToken);

    // Stops it; the workspace stays. Returns once it no longer runs. Not running: nothing happens.
    Task StopAsync(Guid userId, CancellationToken cancellationToken);

    // What it is doing now, as observed (never what was last asked).
    Task<RuntimeStatus> GetAsync(Guid userId, CancellationToken cancellationToken);

    // Stops it and deletes its workspace for good (the account was deleted).
    Task RemoveAsync(Guid userId, CancellationToken cancellationToken);
}

// One start: whose assistant, and the secret Chat proves itself with on this start's tool API (Authorization: Bearer
// <secret>). The runtime hands it to the program without logging it or writing it anywhere in plain text.
public sealed record AssistantLaunch(Guid UserId, string Secret)
{
    public override string ToString() => $"AssistantLaunch {{ UserId = {UserId} }}"; // never the secret
}

public enum RuntimeState
{
    Stopped, // not running (never started, stopped, or removed)
    Starting, // asked to run, not answering yet
    Running, // answering at Endpoint
    Exited, // it ended without being asked to (a crash, a limit hit): Reason says how
}

// Endpoint: the base address of the program's API (GET /health, the tools under /tools/…) while Running, else null.
public sealed record RuntimeStatus(RuntimeState State, Uri? Endpoint = null, string? Reason = null)
{
    public static readonly RuntimeStatus Stopped = new(RuntimeState.Stopped);
}
