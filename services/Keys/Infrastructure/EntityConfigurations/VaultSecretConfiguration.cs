using Gateway.Keys.Vault;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Keys.Infrastructure.EntityConfigurations;

public sealed class VaultSecretConfiguration : IEntityTypeConfiguration<VaultSecret>
{
    public void Configure(EntityTypeBuilder<VaultSecret> secret)
    {
        secret.ToTable("vault_secrets");
        secret.Property(s => s.Id).ValueGeneratedNever();
        secret.Property(s => s.Name).HasMaxLength(VaultSecret.MaxNameLength);
        secret.HasIndex(s => new { s.UserId, s.Name }).IsUnique();
    }
}
