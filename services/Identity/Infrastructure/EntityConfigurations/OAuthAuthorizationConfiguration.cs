using Gateway.Identity.OAuth;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Identity.Infrastructure.EntityConfigurations;

public sealed class OAuthAuthorizationConfiguration : IEntityTypeConfiguration<OAuthAuthorization>
{
    public void Configure(EntityTypeBuilder<OAuthAuthorization> authorization)
    {
        authorization.ToTable("oauth_authorizations");
        authorization.Property(a => a.Provider).HasMaxLength(32);
        authorization.Property(a => a.CodeVerifier).HasMaxLength(64);
        authorization.HasIndex(a => a.StateHash).IsUnique();
        authorization.HasIndex(a => a.ExpiresAt);
    }
}
