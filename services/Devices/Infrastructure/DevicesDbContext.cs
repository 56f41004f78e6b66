using Microsoft.EntityFrameworkCore;

namespace Gateway.Devices.Infrastructure;

public sealed class DevicesDbContext(DbContextOptions<DevicesDbContext> options) : DbContext(options)
{
}
