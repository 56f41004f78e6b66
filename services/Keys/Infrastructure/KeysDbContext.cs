using Microsoft.EntityFrameworkCore;

namespace Gateway.Keys.Infrastructure;

public sealed class KeysDbContext(DbContextOptions<KeysDbContext> options) : DbContext(options)
{
}
