using Gateway.Chat.Infrastructure;
using Gateway.Contracts;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Chat.Conversations;

// A deleted account's words go with it: its sessions and their messages (deleted with their session, by the foreign
// key), its generations and the answers kept for its idempotency keys. Its usage rows stay (what was charged, to whom and
// for which model, no text): Billing's ledger keeps those charges too. A second delivery finds nothing left.
public sealed class ConversationsUserDeletedConsumer(ChatDbContext db) : IConsumer<UserDeleted>
{
    public async Task Consume(ConsumeContext<UserDeleted> context)
    {
        var userId = context.Message.UserId;
        var cancellationToken = context.CancellationToken;
        await db.Sessions.Where(s => s.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        await db.Generations.Where(g => g.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        await db.IdempotentRequests.Where(r => r.UserId == userId).ExecuteDeleteAsync(cancellationToken);
    }
}
