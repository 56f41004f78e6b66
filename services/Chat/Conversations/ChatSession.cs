using Gateway.ServiceDefaults;
namespace Gateway.Chat.Conversations;

// A conversation of one user; its messages are the context of the next turn.
public sealed class ChatSession
{
    public const int MaxTitleLength = 200;

    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid UserId { get; init; }
    public required string Title { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    public static string TitleFrom(string message)
    {
        // The first line, with any other character that breaks a line or reorders it (a tab, U+2028) read as a space.
        var line = new string(message.Trim().Split('\n', 2)[0].Select(c => OneLineText.IsBreaking(c) ? ' ' : c).ToArray()).Trim();
        return line.Length <= 60 ? line : line[..60].TrimEnd() + "…";
    }
}
