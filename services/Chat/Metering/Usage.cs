namespace Gateway.Chat.Metering;

// What one reserved call cost, committed with the messages it produced and the UsageRecorded outbox row.
// Its Id is the UsageId Billing captures with, so the charge is made once.
public sealed class Usage
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid ReservationId { get; init; }
    public Guid UserId { get; init; }
    public required string Kind { get; init; }   // chat, completion, response, embedding, icon
    public required string Model { get; init; }
    public long InputTokens { get; init; }
    public long OutputTokens { get; init; }
    public long Credits { get; init; }
    public bool Interrupted { get; init; }        // the caller left or the model failed mid-answer
    public DateTimeOffset RecordedAt { get; init; }
}
