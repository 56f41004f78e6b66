using Gateway.Billing.Ledger;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Billing.Infrastructure.EntityConfigurations;

public sealed class AccountConfiguration : IEntityTypeConfiguration<Account>
{
    public void Configure(EntityTypeBuilder<Account> account)
    {
        account.ToTable("accounts", table =>
        {
            // The last line of defence: whatever the code does, a wallet cannot hold or spend what it has not got.
            table.HasCheckConstraint("ck_accounts_available", "held >= 0 AND balance - held >= 0");
            table.HasCheckConstraint("ck_accounts_system_uncached", "kind = 'wallet' OR (balance = 0 AND held = 0)");
        });
        account.HasKey(a => a.Id);
        account.Property(a => a.Kind).HasConversion(k => k == AccountKind.Wallet ? "wallet" : "system", s => s == "wallet" ? AccountKind.Wallet : AccountKind.System).HasMaxLength(16);
        account.Property(a => a.Code).HasMaxLength(32);
        account.Property(a => a.CreatedAt).HasDefaultValueSql("now()");
        account.Ignore(a => a.Available);
        account.HasIndex(a => a.Code).IsUnique();

        account.HasData(SystemAccounts.Codes.Select(entry => new Account
        {
            Id = entry.Key,
            Kind = AccountKind.System,
            Code = entry.Value,
            CreatedAt = new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero),
        }));
    }
}
