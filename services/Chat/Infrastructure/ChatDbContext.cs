using Gateway.Chat.Assistants;
using Gateway.Chat.Conversations;
using Gateway.Chat.Generations;
using Gateway.Chat.Metering;
using Gateway.Chat.Telegram;
using Gateway.ServiceDefaults.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Chat.Infrastructure;

public sealed class ChatDbContext(DbContextOptions<ChatDbContext> options) : DbContext(options)
{
    public DbSet<ChatSession> Sessions => Set<ChatSession>();
    public DbSet<SessionMessage> Messages => Set<SessionMessage>();
    public DbSet<Usage> Usage => Set<Usage>();
    public DbSet<IdempotentRequest> IdempotentRequests => Set<IdempotentRequest>();
    public DbSet<Generation> Generations => Set<Generation>();
    public DbSet<TelegramLink> TelegramLinks => Set<TelegramLink>();
    public DbSet<TelegramConnectToken> TelegramConnectTokens => Set<TelegramConnectToken>();
    public DbSet<TelegramUpdate> TelegramUpdates => Set<TelegramUpdate>();
    public DbSet<Assistant> Assistants => Set<Assistant>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(ChatDbContext).Assembly);
        modelBuilder.AddOutbox();
    }
}
