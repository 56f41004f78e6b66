using Gateway.Chat.Upstream;

namespace Gateway.Chat.Conversations;

// One message of a session: the user's, or the model's answer with what it cost and the tools it called on the way
// (null when it called none).
public sealed class SessionMessage
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid SessionId { get; init; }
    public Guid UserId { get; init; }
    public required string Role { get; init; }
    public required string Content { get; init; }
    public IReadOnlyList<ToolUse>? ToolCalls { get; init; }
    public string? Model { get; init; }
    public long? InputTokens { get; init; }
    public long? OutputTokens { get; init; }
    public long? Credits { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

public static class Roles
{
    public const string User = "user";
    public const string Assistant = "assistant";
    public const string System = "system";
}
