namespace Gateway.Contracts;

// A user's assistant changed status (stopped, starting, running, stopping, failed; Reason says why when there is one),
// told to its owner's live sockets (Devices' /api/events) and to nobody else. Published through Chat's outbox with the
// change; handling it twice does no harm (it says where the assistant stands, as of ChangedAt).
public sealed record AssistantStatusChanged(Guid UserId, string Status, string? Reason, DateTimeOffset ChangedAt);
