namespace Gateway.Contracts;

// Chat asks Billing to hold credits before it spends money upstream (MassTransit request client).
// Answered CreditsReserved or CreditsInsufficient; a Fault<ReserveCredits> for a request Billing refuses
// to read (Amount ≤ 0, HoldFor out of range). Idempotent per ReservationId: asking again returns the
// first answer. Chat fails closed when no answer comes in time, and then sends ReservationCancelled for
// the same ReservationId. A request is sent with a time to live equal to that wait: Billing ignores one that
// arrives expired, and never makes a hold whose cancellation it has already seen.
// Holder names the running process the hold is for (one Chat instance): its holds go back once it stops
// renewing them (HoldsRenewed), so a crashed requester's credits are not held until HoldFor runs out.
public sealed record ReserveCredits(Guid ReservationId, Guid UserId, long Amount, string Reason, TimeSpan HoldFor, Guid? Holder = null);

// The hold exists until ExpiresAt; after that it is released and a capture is refused. Balance and
// Available are the wallet's once the hold is made (a hold lowers Available, not Balance).
public sealed record CreditsReserved(Guid ReservationId, Guid UserId, long Amount, long Available, DateTimeOffset ExpiresAt, long Balance);

// Nothing was held. Shown to users as "Required: {Required}, Available: {Available}".
public sealed record CreditsInsufficient(Guid ReservationId, Guid UserId, long Required, long Available);

// One or several holds in one message (Chat asks this way: concurrent requests' holds and the standby holds it makes
// ahead for a busy caller travel together, and one answer type is cheaper to wait on than two): each is an ordinary
// ReserveCredits, made or refused as if asked alone, and all are answered by one CreditsReservedBatch. At most
// MaxHolds; a Fault when any of them cannot be read. One message instead of one per hold is most of what a
// reservation costs the broker and both services.
public sealed record ReserveCreditsBatch(IReadOnlyList<ReserveCredits> Holds)
{
    public const int MaxHolds = 32;
}

// A hold its requester cancelled before it was made is in neither list (that requester has stopped waiting).
public sealed record CreditsReservedBatch(IReadOnlyList<CreditsReserved> Reserved, IReadOnlyList<CreditsInsufficient> Insufficient);

// What a reserved request actually cost (published by Chat through its outbox). Billing captures it
// exactly once per ReservationId: the hold is charged Credits and the rest goes back. UsageId is the
// capture's idempotency key; redelivery with the same UsageId does nothing. A request whose hold grew with its
// answer (a low balance) names the further holds in MoreHolds with each one's share of Credits: the
// reservation's own hold is charged the rest. Kind is what the credits paid for (chat, completion, response,
// embedding, icon, page), named in the caller's credit history; absent in messages from before it existed.
public sealed record UsageRecorded(
    Guid UsageId,
    Guid ReservationId,
    Guid UserId,
    long Credits,
    long InputTokens,
    long OutputTokens,
    string Model,
    DateTimeOffset RecordedAt,
    IReadOnlyList<HoldCharge>? MoreHolds = null,
    string? Kind = null);

public sealed record HoldCharge(Guid ReservationId, long Credits);

// Published by a holder (a Chat instance) every few seconds while it runs: the holds it asked for are still in use.
// Billing releases the holds of a holder it has not heard from for its HolderLease (Billing:Ledger), counted only
// while Billing itself could hear (a broker outage silences every holder).
public sealed record HoldsRenewed(Guid Holder, DateTimeOffset RenewedAt);

// The reserved request was not carried out (or Chat gave up waiting for the reservation); the hold is
// released in full. Handled once per ReservationId.
public sealed record ReservationCancelled(Guid ReservationId, Guid UserId, string Reason, DateTimeOffset CancelledAt);
