using Gateway.Identity.Organizations;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Identity.Infrastructure.EntityConfigurations;

public sealed class OrganizationConfiguration : IEntityTypeConfiguration<Organization>
{
    public void Configure(EntityTypeBuilder<Organization> organization)
    {
        organization.ToTable("organizations");
        organization.Property(o => o.Name).HasMaxLength(100);
        organization.Property(o => o.ContactEmail).HasMaxLength(254);
        organization.Property(o => o.Website).HasMaxLength(200);
    }
}
