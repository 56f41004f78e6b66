using System.Text.Json;
using Gateway.Chat.Conversations;
using Gateway.Chat.Upstream;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
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
        // Written with the answer and never changed: one jsonb value (a plain column, so the turn's commit stays NewRows').
        message.Property(m => m.ToolCalls).HasColumnType("jsonb").HasConversion(
            calls => JsonSerializer.Serialize(calls, JsonSerializerOptions.Web),
            json => JsonSerializer.Deserialize<IReadOnlyList<ToolUse>>(json, JsonSerializerOptions.Web),
            new ValueComparer<IReadOnlyList<ToolUse>?>((a, b) => a == b || (a != null && b != null && a.SequenceEqual(b)),
                calls => calls == null ? 0 : calls.Count, calls => calls));
        message.HasIndex(m => new { m.SessionId, m.CreatedAt });
        message.HasOne<ChatSession>().WithMany().HasForeignKey(m => m.SessionId).OnDelete(DeleteBehavior.Cascade);
    }
}
