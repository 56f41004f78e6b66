using Gateway.Contracts;
using Gateway.Keys.Infrastructure;
using Gateway.ServiceDefaults.Outbox;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Keys.Consumers;

// A deleted account's keys stop working everywhere (ApiKeyRevoked for each, through the outbox) and its
// vault is erased. A second delivery finds nothing left to revoke or erase.
public sealed class UserDeletedConsumer(KeysDbContext db, TimeProvider time) : IConsumer<UserDeleted>
{
    public async Task Consume(ConsumeContext<UserDeleted> context)
    {
        var userId = context.Message.UserId;
        var now = time.GetUtcNow();
        var live = await db.ApiKeys.Where(k => k.UserId == userId && k.RevokedAt == null).ToListAsync(context.CancellationToken);
        foreach (var key in live)
        {
            if (key.Revoke(now) is { } revoked)
            {
                db.AddToOutbox(revoked);
            }
        }
        // A key revoked meanwhile by its owner fails the save (its concurrency token); the retry skips it.
        await db.SaveChangesAsync(context.CancellationToken);
        await db.VaultSecrets.Where(s => s.UserId == userId).ExecuteDeleteAsync(context.CancellationToken);
    }
}
