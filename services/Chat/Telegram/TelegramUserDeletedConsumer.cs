using Gateway.Chat.Infrastructure;
using Gateway.Contracts;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Chat.Telegram;

// A deleted account's Telegram chat is unlinked and its unused links forgotten: the chat is told how to connect again,
// never answered on a dead account. A second delivery finds nothing left.
public sealed class TelegramUserDeletedConsumer(ChatDbContext db) : IConsumer<UserDeleted>
{
    public async Task Consume(ConsumeContext<UserDeleted> context)
    {
        var userId = context.Message.UserId;
        await db.TelegramLinks.Where(l => l.UserId == userId).ExecuteDeleteAsync(context.CancellationToken);
        await db.TelegramConnectTokens.Where(t => t.UserId == userId).ExecuteDeleteAsync(context.CancellationToken);
    }
}
