namespace Gateway.Chat.Metering;

// A request made with an Idempotency-Key: claimed before the model is called, completed with the answer in
// the same transaction as its usage, so a retry finds either "still running" or the stored answer.
public sealed class IdempotentRequest
{
    public Guid UserId { get; init; }
    public required string Key { get; init; }
    public required string Endpoint { get; init; }
    public required string RequestHash { get; init; }
    public string? Response { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
}
