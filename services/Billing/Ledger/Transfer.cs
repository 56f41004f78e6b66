namespace Gateway.Billing.Ledger;

// An append-only entry: Amount moves from DebitAccountId to CreditAccountId. Its Id is the caller's
// idempotency key. Holds are pending: they raise the wallet's Held, not its Balance, until exactly one
// Capture, Release or Expiry names them in PendingId.
public sealed class Transfer
{
    public Guid Id { get; init; }
    public long Sequence { get; init; }
    public TransferKind Kind { get; init; }
    public Guid DebitAccountId { get; init; }
    public Guid CreditAccountId { get; init; }
    public long Amount { get; init; }
    public Guid? WalletId { get; init; }
    public Guid? PendingId { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public long? Requested { get; init; }
    public required string Reason { get; init; }
    public string? Model { get; init; }
    public long? InputTokens { get; init; }
    public long? OutputTokens { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

public enum TransferKind { Grant, Purchase, Hold, Capture, Release, Expiry, Refund, Correction }

public static class TransferKinds
{
    // Kinds that change a balance; the others only move credits in and out of Held.
    public static readonly TransferKind[] Posted = [TransferKind.Grant, TransferKind.Purchase, TransferKind.Capture, TransferKind.Refund, TransferKind.Correction];

    public static string Name(this TransferKind kind) => kind.ToString().ToLowerInvariant();
}

// A hold nobody has resolved yet. Deleting this row is what resolves a hold, so it happens once.
public sealed class OpenHold
{
    public Guid HoldId { get; init; }
    public Guid WalletId { get; init; }
    public long Amount { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
    // The process the hold is for (ReserveCredits.Holder); its holds go back when it stops renewing them.
    public Guid? Holder { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

// When a holder last said its holds are still in use (HoldsRenewed).
public sealed class HolderLease
{
    public Guid Holder { get; init; }
    public DateTimeOffset RenewedAt { get; init; }
}

// A reservation cancelled before Billing made it (its requester gave up waiting): it is never made afterwards.
public sealed class CancelledReservation
{
    public Guid ReservationId { get; init; }
    public DateTimeOffset CancelledAt { get; init; }
}
