using Gateway.Identity.Accounts;
using Gateway.Identity.Organizations;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Identity.Infrastructure.EntityConfigurations;

public sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> user)
    {
        user.ToTable("users");
        user.Property(u => u.Name).HasMaxLength(100);
        user.Property(u => u.Role).HasConversion<string>().HasMaxLength(16);
        user.Property(u => u.Timezone).HasMaxLength(64);
        user.OwnsOne(u => u.Assistant, assistant =>
        {
            assistant.Property(a => a.Name).HasColumnName("AssistantName").HasMaxLength(100);
            assistant.Property(a => a.Interests).HasColumnName("AssistantInterests");
        });
        user.HasOne<Organization>().WithMany().HasForeignKey(u => u.OrganizationId).OnDelete(DeleteBehavior.Restrict);
        user.HasIndex(u => new { u.OrganizationId, u.Role });

        // Identity's own index on the e-mail is not unique; the user name (the e-mail) is.
        user.Property(u => u.Email).HasMaxLength(254);
        user.Property(u => u.NormalizedEmail).HasMaxLength(254);
    }
}

public sealed class UserLoginConfiguration : IEntityTypeConfiguration<IdentityUserLogin<Guid>>
{
    public void Configure(EntityTypeBuilder<IdentityUserLogin<Guid>> login) => login.ToTable("user_logins");
}

public sealed class UserClaimConfiguration : IEntityTypeConfiguration<IdentityUserClaim<Guid>>
{
    public void Configure(EntityTypeBuilder<IdentityUserClaim<Guid>> claim) => claim.ToTable("user_claims");
}

public sealed class UserTokenConfiguration : IEntityTypeConfiguration<IdentityUserToken<Guid>>
{
    public void Configure(EntityTypeBuilder<IdentityUserToken<Guid>> token) => token.ToTable("user_tokens");
}
