using Gateway.Billing.Ledger;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Billing.Infrastructure.EntityConfigurations;

public sealed class TransferConfiguration : IEntityTypeConfiguration<Transfer>
{
    public void Configure(EntityTypeBuilder<Transfer> transfer)
    {
        transfer.ToTable("transfers", table =>
        {
            // A capture may charge nothing (an empty answer); every other transfer moves something.
            table.HasCheckConstraint("ck_transfers_amount", "amount > 0 OR (kind = 'capture' AND amount = 0)");
            table.HasCheckConstraint("ck_transfers_sides", "debit_account_id <> credit_account_id");
        });
        transfer.HasKey(t => t.Id);
        // The order entries were written in (history's cursor); unique by being an identity.
        transfer.Property(t => t.Sequence).UseIdentityAlwaysColumn();
        transfer.Property(t => t.Kind)
            .HasConversion(k => k.Name(), s => Enum.Parse<TransferKind>(s, true))
            .HasMaxLength(16);
        transfer.Property(t => t.Reason).HasMaxLength(200);
        transfer.Property(t => t.Model).HasMaxLength(100);
        transfer.Property(t => t.CreatedAt).HasDefaultValueSql("now()");
        // No foreign keys to accounts: each would take a KEY SHARE lock on the system account's row in
        // every transfer, serialising the ledger on it (MultiXact churn). The ledger functions only ever
        // name existing accounts, and the audit proves every account's entries.

        // A hold is resolved at most once, whoever races to resolve it.
        transfer.HasIndex(t => t.PendingId).IsUnique().HasFilter("pending_id IS NOT NULL");
        // History and usage: one wallet's entries, newest first.
        transfer.HasIndex(t => new { t.WalletId, t.Sequence }).IsDescending(false, true);
    }
}

public sealed class OpenHoldConfiguration : IEntityTypeConfiguration<OpenHold>
{
    public void Configure(EntityTypeBuilder<OpenHold> hold)
    {
        hold.ToTable("open_holds", table => table.HasCheckConstraint("ck_open_holds_amount", "amount > 0"));
        hold.HasKey(h => h.HoldId);
        hold.HasIndex(h => h.ExpiresAt);
        hold.Property(h => h.CreatedAt).HasDefaultValueSql("now()");
    }
}

public sealed class HolderLeaseConfiguration : IEntityTypeConfiguration<HolderLease>
{
    public void Configure(EntityTypeBuilder<HolderLease> lease)
    {
        lease.ToTable("holder_leases");
        lease.HasKey(l => l.Holder);
    }
}

public sealed class CancelledReservationConfiguration : IEntityTypeConfiguration<CancelledReservation>
{
    public void Configure(EntityTypeBuilder<CancelledReservation> cancelled)
    {
        cancelled.ToTable("cancelled_reservations");
        cancelled.HasKey(c => c.ReservationId);
        cancelled.Property(c => c.CancelledAt).HasDefaultValueSql("now()");
        cancelled.HasIndex(c => c.CancelledAt);
    }
}
