using System.ComponentModel.DataAnnotations;

namespace Gateway.Billing.Ledger;

public sealed record LedgerOptions
{
    public const string Section = "Billing:Ledger";

    // Credits granted once to every new user (UserRegistered); 0 grants nothing.
    [Range(0, 1_000_000_000)]
    public long SignUpGrant { get; init; }

    // The longest hold a reservation may ask for; a longer HoldFor is refused.
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxHold { get; init; } = TimeSpan.FromHours(1);

    // Platform administrators (user ids) who may read the audit and adjust wallets.
    public Guid[] Administrators { get; init; } = [];

    // How often expired holds are looked for and released.
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromSeconds(5);

    // A holder (a running Chat renews every 10 s) silent this long has crashed or been cut off: its holds are
    // released rather than kept until their HoldFor (HoldSweeper).
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan HolderLease { get; init; } = TimeSpan.FromSeconds(30);
}
