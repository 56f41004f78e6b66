using Gateway.Identity.Accounts;
using Gateway.Identity.Invitations;
using Gateway.Identity.Organizations;
using Gateway.Identity.Tokens;
using Gateway.ServiceDefaults.Outbox;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Identity.Infrastructure;

// Users, logins and lockout come from ASP.NET Core Identity's user store; the rest is the service's own.
public sealed class AccountsDbContext(DbContextOptions<AccountsDbContext> options) : IdentityUserContext<User, Guid>(options)
{
    public DbSet<Organization> Organizations => Set<Organization>();
    public DbSet<Invitation> Invitations => Set<Invitation>();
    public DbSet<RefreshTokenFamily> RefreshTokenFamilies => Set<RefreshTokenFamily>();
    public DbSet<RefreshToken> RefreshTokens => Set<RefreshToken>();
    public DbSet<SigningKey> SigningKeys => Set<SigningKey>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(AccountsDbContext).Assembly);
        builder.AddOutbox();
    }
}
