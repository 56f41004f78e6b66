using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.ServiceDefaults.Outbox;

// Deletes outbox rows the broker confirmed more than Outbox:KeepPublishedFor ago (default one day), ten minutes
// after start and then hourly. A published row is only kept to look into what was sent; rows never published are
// never deleted. (Not at start: beside the publisher it took a second connection from every service at once,
// which ran the test suite's Postgres out of connections.)
public sealed class OutboxCleaner<TContext>(IServiceScopeFactory scopes, IConfiguration configuration, ILogger<OutboxCleaner<TContext>> logger)
    : BackgroundService
    where TContext : DbContext
{
    private static readonly TimeSpan FirstAfter = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan Every = TimeSpan.FromHours(1);
    private const int ChunkSize = 10_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var keepFor = configuration.GetValue("Outbox:KeepPublishedFor", TimeSpan.FromDays(1));
        await Task.Delay(FirstAfter, stoppingToken);
        using var timer = new PeriodicTimer(Every);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var deleted = await DeletePublishedAsync(scope.ServiceProvider.GetRequiredService<TContext>(), DateTimeOffset.UtcNow - keepFor, stoppingToken);
                if (deleted > 0) logger.LogInformation("Deleted {Count} outbox rows published more than {KeepFor} ago", deleted, keepFor);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Outbox clean-up failed, will retry in {Every}: {Reason}", Every, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    // Row ids are version 7 UUIDs, which Postgres orders by their creation time: the primary key finds the old rows
    // without an index on PublishedAt. Deleted in chunks, so no statement holds many locks for long.
    public static async Task<int> DeletePublishedAsync(TContext db, DateTimeOffset publishedBefore, CancellationToken cancellationToken)
    {
        var createdBefore = Guid.CreateVersion7(publishedBefore);
        var total = 0;
        int deleted;
        do
        {
            deleted = await db.Database.ExecuteSqlRawAsync("""
                DELETE FROM outbox_messages WHERE "Id" IN (
                    SELECT "Id" FROM outbox_messages
                    WHERE "Id" < {0} AND "PublishedAt" < {1}
                    ORDER BY "Id" LIMIT {2})
                """, [createdBefore, publishedBefore, ChunkSize], cancellationToken);
            total += deleted;
        }
        while (deleted == ChunkSize);
        return total;
    }
}
