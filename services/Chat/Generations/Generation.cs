namespace Gateway.Chat.Generations;

// One flat-price generation (an icon, a page), stored from the moment its price is held: running while the model
// writes, then completed (its checked output, charged) or failed (nothing charged, and why).
public sealed class Generation
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid UserId { get; init; }

    // The kind of Chat:Generations: "icon", or a page's format (html_tailwind, html_css, react_tailwind, vue_tailwind).
    public required string Kind { get; init; }
    public required string Prompt { get; init; }
    public required string Model { get; init; }
    public string Status { get; private set; } = GenerationStatus.Running;

    // The checked output (an icon's cleaned SVG, a page's code); null until completed.
    public string? Output { get; private set; }

    // What it cost (null for icons stored before generations recorded it).
    public long? Credits { get; private set; }
    public string? Error { get; private set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; private set; }

    public void Complete(string output, long credits, DateTimeOffset at) =>
        (Status, Output, Credits, CompletedAt) = (GenerationStatus.Completed, output, credits, at);

    public void Fail(string error, DateTimeOffset at) =>
        (Status, Error, Credits, CompletedAt) = (GenerationStatus.Failed, error, 0, at);

    // A generation still running long after any call could have ended was lost with the process that ran it (its hold
    // went back when Billing stopped hearing from that process): it is shown as failed.
    public static string StatusAt(string status, DateTimeOffset createdAt, DateTimeOffset now, TimeSpan longestRun) =>
        status == GenerationStatus.Running && now - createdAt > longestRun ? GenerationStatus.Failed : status;
}

public static class GenerationStatus
{
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
}
