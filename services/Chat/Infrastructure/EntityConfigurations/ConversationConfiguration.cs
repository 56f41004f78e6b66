using Gateway.Chat.Conversations;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Chat.Infrastructure.EntityConfigurations;

public sealed class ChatSessionConfiguration : IEntityTypeConfiguration<ChatSession>
{
    public void Configure(EntityTypeBuilder<ChatSession> session)
    {
        session.ToTable("sessions");
        session.HasKey(s => s.Id);
        session.Property(s => s.Title).HasMaxLength(ChatSession.MaxTitleLength);
        session.HasIndex(s => new { s.UserId, s.UpdatedAt });
    }
}

public sealed class SessionMessageConfiguration : IEntityTypeConfiguration<SessionMessage>
{
    public void Configure(EntityTypeBuilder<SessionMessage> message)
    {
        message.ToTable("messages");
        message.HasKey(m => m.Id);
        message.Property(m => m.Role).HasMaxLength(16);
        message.Property(m => m.Model).HasMaxLength(200);
        message.HasIndex(m => new { m.SessionId, m.CreatedAt });
        message.HasOne<ChatSession>().WithMany().HasForeignKey(m => m.SessionId).OnDelete(DeleteBehavior.Cascade);
    }
}
