using Gateway.Keys.ApiKeys;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Keys.Infrastructure.EntityConfigurations;

public sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> key)
    {
        key.ToTable("api_keys");
        key.Property(k => k.Id).ValueGeneratedNever();
        key.Property(k => k.Name).HasMaxLength(ApiKey.MaxNameLength);
        key.Property(k => k.Hash).HasMaxLength(64);
        key.Property(k => k.MaskedKey).HasMaxLength(32);
        key.Property(k => k.RevokedAt).IsConcurrencyToken();

        // The edge's lookup: one unique index probe.
        key.HasIndex(k => k.Hash).IsUnique();
        key.HasIndex(k => new { k.UserId, k.CreatedAt });
        // One live default key per user, however many first calls arrive at once.
        key.HasIndex(k => k.UserId, "IX_api_keys_default_per_user").IsUnique().HasFilter("\"IsDefault\" AND \"RevokedAt\" IS NULL");
    }
}
