namespace Gateway.Chat.Generations;

// An icon the model drew, stored only after its SVG was checked and stripped of anything active.
public sealed class Icon
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid UserId { get; init; }
    public required string Prompt { get; init; }
    public required string Svg { get; init; }
    public required string Model { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}
