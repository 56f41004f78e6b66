using Gateway.Devices.Fleet;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Devices.Infrastructure.EntityConfigurations;

public sealed class DeviceConfiguration : IEntityTypeConfiguration<Device>
{
    public void Configure(EntityTypeBuilder<Device> device)
    {
        device.ToTable("devices");
        device.Property(d => d.Id).ValueGeneratedNever();
        device.Property(d => d.Name).HasMaxLength(Device.MaxNameLength);
        device.Property(d => d.Status).HasMaxLength(16);
        device.Property(d => d.ActivationCodeHash).HasMaxLength(64);
        device.Property(d => d.TokenHash).HasMaxLength(64);
        device.Property(d => d.ActivatedAt).IsConcurrencyToken();

        device.HasIndex(d => new { d.OrganizationId, d.Status, d.RegisteredAt });
        device.HasIndex(d => d.Labels).HasMethod("gin");
        device.HasIndex(d => d.ActivationCodeHash).IsUnique().HasFilter("\"ActivationCodeHash\" IS NOT NULL");
        device.HasIndex(d => d.TokenHash).IsUnique().HasFilter("\"TokenHash\" IS NOT NULL");
    }
}
