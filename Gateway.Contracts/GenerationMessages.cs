namespace Gateway.Contracts;

// A generation's life (an icon, a page), told to its owner's live sockets (Devices' /api/events) and to nobody else.
// Started, Completed and Failed go through Chat's outbox with the generation's row; Progressed is published directly
// (at most once per Chat:GenerationProgressInterval; losing one costs nothing, the next or the end says more).
// Handling any of them twice does no harm: each names the generation and says where it stands.
public sealed record GenerationStarted(Guid GenerationId, Guid UserId, string Kind, DateTimeOffset StartedAt);

// How much the model has written so far.
public sealed record GenerationProgressed(Guid GenerationId, Guid UserId, string Kind, int Characters, DateTimeOffset At);

public sealed record GenerationCompleted(Guid GenerationId, Guid UserId, string Kind, int Characters, long Credits, DateTimeOffset CompletedAt);

// Nothing was charged: the model failed, its output was not what was asked for, or the caller left.
public sealed record GenerationFailed(Guid GenerationId, Guid UserId, string Kind, string Reason, DateTimeOffset FailedAt);
