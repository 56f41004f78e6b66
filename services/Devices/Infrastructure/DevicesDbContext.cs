using Gateway.Devices.CustomerSessions;
using Gateway.Devices.Fleet;
using Gateway.ServiceDefaults.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Devices.Infrastructure;

public sealed class DevicesDbContext(DbContextOptions<DevicesDbContext> options) : DbContext(options)
{
    public DbSet<Device> Devices => Set<Device>();
    public DbSet<CustomerSession> CustomerSessions => Set<CustomerSession>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        builder.ApplyConfigurationsFromAssembly(typeof(DevicesDbContext).Assembly);
        builder.AddOutbox();
    }

    // The row, locked until the transaction ends: presence changes of one device happen one at a time.
    public Task<Device?> LockDeviceAsync(Guid id, CancellationToken cancellationToken) =>
        Devices.FromSql($"SELECT * FROM devices WHERE \"Id\" = {id} FOR UPDATE").SingleOrDefaultAsync(cancellationToken);
}
