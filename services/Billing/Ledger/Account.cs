namespace Gateway.Billing.Ledger;

// A wallet (one per user, its id is the user's id) or a system account. Only wallets cache Balance and
// Held; a system account's balance is derived from its transfers, so no transfer waits on its row.
public sealed class Account
{
    public Guid Id { get; init; }
    public AccountKind Kind { get; init; }
    public string? Code { get; init; }
    public Guid? OrganizationId { get; init; }
    public long Balance { get; init; }
    public long Held { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    public long Available => Balance - Held;
}

public enum AccountKind { Wallet, System }

// The other side of every transfer: credits enter wallets from Issuance (purchases) or Promotions
// (grants, corrections) and leave them to Revenue (usage), which also pays refunds.
public static class SystemAccounts
{
    public static readonly Guid Issuance = new("00000000-0000-0000-0000-000000000001");
    public static readonly Guid Promotions = new("00000000-0000-0000-0000-000000000002");
    public static readonly Guid Revenue = new("00000000-0000-0000-0000-000000000003");

    public static readonly IReadOnlyDictionary<Guid, string> Codes = new Dictionary<Guid, string>
    {
        [Issuance] = "issuance",
        [Promotions] = "promotions",
        [Revenue] = "revenue",
    };
}
