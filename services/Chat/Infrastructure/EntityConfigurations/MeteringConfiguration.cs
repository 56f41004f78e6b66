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

public sealed class GenerationConfiguration : IEntityTypeConfiguration<Generation>
{
    public void Configure(EntityTypeBuilder<Generation> generation)
    {
        generation.ToTable("generations");
        generation.HasKey(g => g.Id);
        generation.Property(g => g.Kind).HasMaxLength(32);
        generation.Property(g => g.Model).HasMaxLength(200);
        generation.Property(g => g.Status).HasMaxLength(16);
        // A user's list of one kind (their icons, their pages), newest first.
        generation.HasIndex(g => new { g.UserId, g.Kind, g.CreatedAt });
    }
}
