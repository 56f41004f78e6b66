using Gateway.Contracts;
using Gateway.Keys.Infrastructure;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Keys.Consumers;

// The edge's batch of key uses, applied with one UPDATE that only ever moves lastUsedAt forward, so a
// repeated or late batch changes nothing. A time ahead of this clock is taken as now.
public sealed class ApiKeysUsedConsumer(KeysDbContext db, TimeProvider time) : IConsumer<ApiKeysUsed>
{
    public async Task Consume(ConsumeContext<ApiKeysUsed> context)
    {
        var now = time.GetUtcNow();
        var latest = context.Message.Uses
            .GroupBy(use => use.KeyId, use => use.LastUsedAt.ToUniversalTime())
            .Select(uses => (KeyId: uses.Key, At: uses.Max() < now ? uses.Max() : now))
            .ToArray();
        if (latest.Length == 0)
        {
            return;
        }
        var ids = latest.Select(use => use.KeyId).ToArray();
        var times = latest.Select(use => use.At).ToArray();
        await db.Database.ExecuteSqlAsync($"""
            UPDATE api_keys AS k SET "LastUsedAt" = u.at
            FROM unnest({ids}, {times}) AS u(id, at)
            WHERE k."Id" = u.id AND (k."LastUsedAt" IS NULL OR k."LastUsedAt" < u.at)
            """, context.CancellationToken);
    }
}
