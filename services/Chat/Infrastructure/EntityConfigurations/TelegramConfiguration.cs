using Gateway.Chat.Telegram;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Chat.Infrastructure.EntityConfigurations;

public sealed class TelegramLinkConfiguration : IEntityTypeConfiguration<TelegramLink>
{
    public void Configure(EntityTypeBuilder<TelegramLink> link)
    {
        link.ToTable("telegram_links");
        link.HasKey(l => l.ChatId);
        link.Property(l => l.ChatId).ValueGeneratedNever();
        link.HasIndex(l => l.UserId).IsUnique();
        // No foreign key to the session: a user who deletes it keeps the link, and the next message starts a new one.
    }
}

public sealed class TelegramConnectTokenConfiguration : IEntityTypeConfiguration<TelegramConnectToken>
{
    public void Configure(EntityTypeBuilder<TelegramConnectToken> token)
    {
        token.ToTable("telegram_connect_tokens");
        token.HasKey(t => t.TokenHash);
        token.HasIndex(t => t.UserId);
        token.HasIndex(t => t.ExpiresAt);
    }
}

public sealed class TelegramUpdateConfiguration : IEntityTypeConfiguration<TelegramUpdate>
{
    public void Configure(EntityTypeBuilder<TelegramUpdate> update)
    {
        update.ToTable("telegram_updates");
        update.HasKey(u => u.UpdateId);
        update.Property(u => u.UpdateId).ValueGeneratedNever();
        update.HasIndex(u => u.ReceivedAt);
    }
}
