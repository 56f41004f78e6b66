using Gateway.Devices.CustomerSessions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Devices.Infrastructure.EntityConfigurations;

public sealed class CustomerSessionConfiguration : IEntityTypeConfiguration<CustomerSession>
{
    public void Configure(EntityTypeBuilder<CustomerSession> session)
    {
        session.ToTable("customer_sessions");
        session.Property(s => s.Id).ValueGeneratedNever();
        session.Property(s => s.DeviceName).HasMaxLength(200);
        session.Property(s => s.CustomerName).HasMaxLength(CustomerSession.MaxCustomerNameLength);
        session.Property(s => s.Summary).HasMaxLength(CustomerSession.MaxSummaryLength);
        session.Property(s => s.DecisionNote).HasMaxLength(CustomerSession.MaxNoteLength);
        session.Property(s => s.Status).HasMaxLength(16).IsConcurrencyToken();
        session.OwnsMany(s => s.Transcript, turn => turn.ToJson());

        session.HasIndex(s => new { s.OrganizationId, s.Status, s.SubmittedAt });
        // A retried upload finds the session it already created.
        session.HasIndex(s => new { s.DeviceId, s.SubmissionId }).IsUnique().HasFilter("\"SubmissionId\" IS NOT NULL");
    }
}
