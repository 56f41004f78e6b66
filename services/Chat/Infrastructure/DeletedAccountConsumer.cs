using Gateway.Contracts;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Chat.Infrastructure;

// A deleted account's rows go with it: its sessions and their messages (deleted with their session, by the foreign
// key), its generations, the answers kept for its idempotency keys, and its Telegram link and unused link tokens (the
// chat is then told how to connect again, never answered on a dead account). Its usage rows stay (what was charged, to
// whom and for which model, no text): Billing's ledger keeps those charges too. Its assistant is removed by
// Assistants/UserDeletedConsumer. A second delivery finds nothing left.
public sealed class DeletedAccountConsumer(ChatDbContext db) : IConsumer<UserDeleted>
{
    public async Task Consume(ConsumeContext<UserDeleted> context)
    {
        var userId = context.Message.UserId;
        var cancellationToken = context.CancellationToken;
        await db.Sessions.Where(s => s.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        await db.Generations.Where(g => g.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        await db.IdempotentRequests.Where(r => r.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        await db.TelegramLinks.Where(l => l.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        await db.TelegramConnectTokens.Where(t => t.UserId == userId).ExecuteDeleteAsync(cancellationToken);
    }
}
