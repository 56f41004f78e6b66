using Gateway.Chat.Assistants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Chat.Infrastructure.EntityConfigurations;

public sealed class AssistantConfiguration : IEntityTypeConfiguration<Assistant>
{
    public void Configure(EntityTypeBuilder<Assistant> assistant)
    {
        assistant.ToTable("assistants");
        assistant.HasKey(a => a.UserId);
        assistant.Property(a => a.Status).HasMaxLength(16);
        assistant.Property(a => a.Reason).HasMaxLength(2000);
        assistant.OwnsOne(a => a.Settings, settings => settings.ToJson());
        // The supervisor's look: the assistants that should be up.
        assistant.HasIndex(a => a.Status);
    }
}
