using Gateway.Keys.ApiKeys;
using Gateway.Keys.Vault;
using Gateway.ServiceDefaults.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Keys.Infrastructure;

public sealed class KeysDbContext(DbContextOptions<KeysDbContext> options) : DbContext(options)
{
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<VaultSecret> VaultSecrets => Set<VaultSecret>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        builder.ApplyConfigurationsFromAssembly(typeof(KeysDbContext).Assembly);
        builder.AddOutbox();
    }
}
