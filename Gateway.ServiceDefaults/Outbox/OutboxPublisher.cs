using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.ServiceDefaults.Outbox;

// Publishes committed outbox rows in order, marks them published once the broker has confirmed, and
// keeps retrying through a broker outage. Replicas take turns (an advisory lock), so the order holds across them.
public sealed class OutboxPublisher<TContext>(
    IServiceScopeFactory scopes, IBus bus, OutboxSignal signal, ILogger<OutboxPublisher<TContext>> logger) : BackgroundService
    where TContext : DbContext
{
    private const int BatchSize = 100;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var published = await PublishBatchAsync(stoppingToken);
                failures = 0;
                if (published < BatchSize)
                {
                    await signal.WaitAsync(IdlePoll, stoppingToken);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                failures++;
                logger.LogWarning("Outbox publishing failed ({Failures} in a row), will retry: {Reason}", failures, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, failures - 1))), stoppingToken);
            }
        }
    }

    private async Task<int> PublishBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // One replica publishes at a time, so events go out in the order they were committed (replicas claiming
        // rows side by side with SKIP LOCKED published a service's two events in either order). Another replica
        // waits here at most one batch; the lock is the database's own and ends with the transaction.
        await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(hashtext('outbox_messages'))", cancellationToken);

        var batch = await db.Set<OutboxMessage>()
            .FromSqlRaw("""
                SELECT * FROM outbox_messages WHERE "PublishedAt" IS NULL
                ORDER BY "CreatedAt" LIMIT {0} FOR UPDATE SKIP LOCKED
                """, BatchSize)
            .ToListAsync(cancellationToken);

        // Publishes are started in order and confirmed together: one broker round trip for the batch,
        // not one per row. Rows the broker confirmed are marked even when others in the batch failed.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(PublishTimeout);
        var publishes = new List<(OutboxMessage Row, Task Publish)>(batch.Count);
        foreach (var row in batch)
        {
            if (TryRead(row) is { } message)
            {
                publishes.Add((row, bus.Publish(message.Body, message.Type, Pipe.Execute<PublishContext>(context => context.MessageId = row.Id), timeout.Token)));
            }
        }
        try
        {
            await Task.WhenAll(publishes.Select(p => p.Publish));
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var (row, publish) in publishes)
            {
                if (publish.IsCompletedSuccessfully)
                {
                    row.PublishedAt = now;
                }
                else
                {
                    Failed(row, publish.Exception?.GetBaseException().Message ?? ex.Message);
                }
            }
            await db.SaveChangesAsync(CancellationToken.None);
            await transaction.CommitAsync(CancellationToken.None);
            throw;
        }

        // One statement for the whole batch, not an UPDATE per row.
        var published = DateTimeOffset.UtcNow;
        var ids = publishes.Select(p => p.Row.Id).ToList();
        if (ids.Count > 0)
        {
            await db.Set<OutboxMessage>().Where(m => ids.Contains(m.Id)).ExecuteUpdateAsync(m => m.SetProperty(r => r.PublishedAt, published), cancellationToken);
        }
        await db.SaveChangesAsync(cancellationToken); // rows that could not be read, marked by TryRead
        await transaction.CommitAsync(cancellationToken);
        return batch.Count;
    }

    // A row whose message type no longer exists stays unpublished and marked, and never blocks the rest.
    private (object Body, Type Type)? TryRead(OutboxMessage row)
    {
        try
        {
            return row.Read();
        }
        catch (Exception ex) when (ex is TypeLoadException or FileNotFoundException or System.Text.Json.JsonException or NotSupportedException)
        {
            logger.LogError("Outbox row {Id} ({Type}) cannot be read and is skipped: {Reason}", row.Id, row.Type, ex.Message);
            Failed(row, ex.Message);
            return null;
        }
    }

    private static void Failed(OutboxMessage row, string error)
    {
        row.Attempts++;
        row.LastError = error.Length > 500 ? error[..500] : error;
    }
}

// Wakes the publisher as soon as a unit of work with outbox rows commits, instead of at the next poll.
public sealed class OutboxSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    // Under load the publisher is usually already signalled: releasing again would throw (and catching an
    // exception on every commit showed in the profile), so only an unsignalled semaphore is released.
    public void Notify()
    {
        if (_signal.CurrentCount > 0) return;
        try { _signal.Release(); } catch (SemaphoreFullException) { } // another commit signalled it just now
    }

    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}
