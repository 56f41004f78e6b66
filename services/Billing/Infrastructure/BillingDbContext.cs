using Microsoft.EntityFrameworkCore;

namespace Gateway.Billing.Infrastructure;

public sealed class BillingDbContext(DbContextOptions<BillingDbContext> options) : DbContext(options)
{
}
