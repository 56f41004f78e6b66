using Microsoft.EntityFrameworkCore;

namespace Gateway.Identity.Infrastructure;

public sealed class IdentityDbContext(DbContextOptions<IdentityDbContext> options) : DbContext(options)
{
}
