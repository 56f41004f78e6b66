using Gateway.Chat.Generations;
using Gateway.Chat.Metering;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Chat.Infrastructure.EntityConfigurations;

public sealed class UsageConfiguration : IEntityTypeConfiguration<Usage>
{
    public void Configure(EntityTypeBuilder<Usage> usage)
    {
        usage.ToTable("usage");
        usage.HasKey(u => u.Id);
        // One charge per reservation, whatever runs twice.
        usage.HasIndex(u => u.ReservationId).IsUnique();
        usage.Property(u => u.Kind).HasMaxLength(32);
        usage.Property(u => u.Model).HasMaxLength(200);
        usage.HasIndex(u => new { u.UserId, u.RecordedAt });
    }
}

public sealed class IdempotentRequestConfiguration : IEntityTypeConfiguration<IdempotentRequest>
{
    public void Configure(EntityTypeBuilder<IdempotentRequest> request)
    {
        request.ToTable("idempotent_requests");
        request.HasKey(r => new { r.UserId, r.Key });
        request.Property(r => r.Key).HasMaxLength(IdempotencyKeys.MaxLength);
        request.Property(r => r.Endpoint).HasMaxLength(64);
        request.Property(r => r.RequestHash).HasMaxLength(64);
        request.Property(r => r.Response).HasColumnType("jsonb");
    }
}

public sealed class IconConfiguration : IEntityTypeConfiguration<Icon>
{
    public void Configure(EntityTypeBuilder<Icon> icon)
    {
        icon.ToTable("icons");
        icon.HasKey(i => i.Id);
        icon.Property(i => i.Model).HasMaxLength(200);
        icon.HasIndex(i => new { i.UserId, i.CreatedAt });
    }
}
