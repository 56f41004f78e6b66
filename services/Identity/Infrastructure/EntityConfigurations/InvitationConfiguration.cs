using Gateway.Identity.Invitations;
using Gateway.Identity.Organizations;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Identity.Infrastructure.EntityConfigurations;

public sealed class InvitationConfiguration : IEntityTypeConfiguration<Invitation>
{
    public void Configure(EntityTypeBuilder<Invitation> invitation)
    {
        invitation.ToTable("invitations");
        invitation.Property(i => i.Email).HasMaxLength(254);
        invitation.Property(i => i.Role).HasConversion<string>().HasMaxLength(16);
        invitation.HasIndex(i => i.TokenHash).IsUnique();
        invitation.HasOne<Organization>().WithMany().HasForeignKey(i => i.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        // One open invitation per address and organisation: inviting twice is a resend, not a second link.
        invitation.HasIndex(i => new { i.OrganizationId, i.Email }).IsUnique().HasFilter("\"AcceptedAt\" IS NULL");
    }
}
