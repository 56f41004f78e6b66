using Gateway.Contracts;

namespace Gateway.Chat.Assistants;

public static class AssistantStatus
{
    public const string Stopped = "stopped";
    public const string Starting = "starting";
    public const string Running = "running";
    public const string Stopping = "stopping";
    public const string Failed = "failed";
}

// A user's assistant as Chat manages it: its status (and why), this start's id (the tool API's secret derives from it,
// so it is never stored), what it was told at start (the owner's settings, read from Identity), and its crash count.
public sealed class Assistant
{
    public Guid UserId { get; init; }
    public string Status { get; private set; } = AssistantStatus.Stopped;
    public string? Reason { get; private set; }
    public DateTimeOffset ChangedAt { get; private set; }
    public Guid StartId { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset LastUsedAt { get; set; }
    public int Crashes { get; set; }
    public DateTimeOffset? RestartAt { get; set; }
    public AssistantSettings Settings { get; set; } = new();

    public bool IsUp => Status is AssistantStatus.Starting or AssistantStatus.Running;

    // The change and the event that tells the owner, to be saved together (the outbox).
    public AssistantStatusChanged? Become(string status, string? reason, DateTimeOffset now)
    {
        if (status == Status && reason == Reason)
        {
            return null;
        }
        (Status, Reason, ChangedAt) = (status, reason, now);
        return new AssistantStatusChanged(UserId, status, reason, now);
    }
}

// The owner's settings as they were when the assistant started (GET /api/user at Identity): its name, their name,
// interests and timezone. A change in settings reaches a running assistant at its next start.
public sealed record AssistantSettings
{
    public string? Name { get; init; }
    public string? OwnerName { get; init; }
    public List<string> Interests { get; init; } = [];
    public string? Timezone { get; init; }

    // The model's instructions for a turn at this moment.
    public string Instructions(DateTimeOffset now)
    {
        var zone = Timezone is { Length: > 0 } id && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var found) ? found : null;
        var local = zone is null ? now : TimeZoneInfo.ConvertTime(now, zone);
        return $"""
            You are {(Name is { Length: > 0 } name ? name : "a personal assistant")}, the personal assistant of {(OwnerName is { Length: > 0 } owner ? owner : "your user")}.
            {(Interests.Count > 0 ? $"Their interests: {string.Join(", ", Interests)}." : "")}
            Their timezone is {zone?.Id ?? "UTC"}; it is {local:yyyy-MM-dd HH:mm} ({local:dddd}) there now.
            You have a workspace of files that persists between conversations: use the tools to list, read and write files in it.
            Paths are relative to the workspace.
            """;
    }
}
