using System.Text.RegularExpressions;
using Gateway.Billing.Ledger;
using Gateway.Billing.Portal;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Billing.Infrastructure;

public sealed partial class BillingDbContext(DbContextOptions<BillingDbContext> options) : DbContext(options)
{
    public DbSet<Account> Accounts => Set<Account>();
    public DbSet<Transfer> Transfers => Set<Transfer>();
    public DbSet<OpenHold> OpenHolds => Set<OpenHold>();
    public DbSet<OrganizationCustomer> OrganizationCustomers => Set<OrganizationCustomer>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(BillingDbContext).Assembly);

        // snake_case columns, so the ledger's SQL functions (Migrations/Sql) read like SQL.
        foreach (var property in modelBuilder.Model.GetEntityTypes().SelectMany(e => e.GetProperties()))
        {
            property.SetColumnName(SnakeCase().Replace(property.Name, "$1_$2").ToLowerInvariant());
        }
    }

    [GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial Regex SnakeCase();
}
