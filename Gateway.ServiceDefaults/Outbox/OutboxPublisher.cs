using MassTransit;
using MassTransit.Logging;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

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
        // Plain commands on the context's connection, not EF queries: the publisher runs once per commit that stages a
        // row, and EF's query pipeline for these statements was most of its CPU (perf, Chat at 80 requests/s).
        var connection = (NpgsqlConnection)scope.ServiceProvider.GetRequiredService<TContext>().Database.GetDbConnection();
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var batch = await ClaimAsync(connection, cancellationToken);

        // Publishes are started in order and confirmed together: one broker round trip for the batch,
        // not one per row. Rows the broker confirmed are marked even when others in the batch failed.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(PublishTimeout);
        var publishes = new List<(Guid Id, Task Publish)>(batch.Count);
        var failed = new List<(Guid Id, string Error)>();
        foreach (var row in batch)
        {
            if (TryRead(row, failed) is { } message)
            {
                publishes.Add((row.Id, bus.Publish(message.Body, message.Type, Pipe.Execute<PublishContext>(context =>
                {
                    context.MessageId = row.Id;
                    // MassTransit's parent for the publish when no activity is current (none is, here): the trace of
                    // the work that wrote the row, sampled or not, so Billing follows that trace's decision.
                    if (row.TraceParent is not null)
                    {
                        context.Headers.Set(DiagnosticHeaders.ActivityId, row.TraceParent);
                    }
                }), timeout.Token)));
            }
        }
        try
        {
            await Task.WhenAll(publishes.Select(p => p.Publish));
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            failed.AddRange(publishes.Where(p => !p.Publish.IsCompletedSuccessfully)
                .Select(p => (p.Id, p.Publish.Exception?.GetBaseException().Message ?? ex.Message)));
            await MarkAsync(connection, [.. publishes.Where(p => p.Publish.IsCompletedSuccessfully).Select(p => p.Id)], failed, CancellationToken.None);
            await transaction.CommitAsync(CancellationToken.None);
            throw;
        }

        await MarkAsync(connection, [.. publishes.Select(p => p.Id)], failed, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return batch.Count;
    }

    // One replica publishes at a time, so events go out in the order they were committed (replicas claiming rows side
    // by side with SKIP LOCKED published a service's two events in either order). Another replica waits here at most
    // one batch; the lock is the database's own and ends with the transaction. The lock and the read are one round trip.
    private static async Task<List<Row>> ClaimAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var claim = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock(hashtext('outbox_messages'))"),
                new NpgsqlBatchCommand($"""
                    SELECT "Id", "Type", "Payload", "TraceParent" FROM outbox_messages WHERE "PublishedAt" IS NULL
                    ORDER BY "CreatedAt" LIMIT {BatchSize} FOR UPDATE SKIP LOCKED
                    """),
            },
        };
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        var rows = new List<Row>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new Row(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
        }
        return rows;
    }

    // The published rows in one statement, not an UPDATE per row, with the failures' notes in the same round trip.
    private static async Task MarkAsync(NpgsqlConnection connection, Guid[] published, List<(Guid Id, string Error)> failed, CancellationToken cancellationToken)
    {
        await using var mark = new NpgsqlBatch(connection);
        if (published.Length > 0)
        {
            mark.BatchCommands.Add(new NpgsqlBatchCommand("""UPDATE outbox_messages SET "PublishedAt" = $1 WHERE "Id" = ANY($2)""")
            {
                Parameters = { new() { Value = DateTimeOffset.UtcNow }, new() { Value = published } },
            });
        }
        foreach (var (id, error) in failed)
        {
            mark.BatchCommands.Add(new NpgsqlBatchCommand("""UPDATE outbox_messages SET "Attempts" = "Attempts" + 1, "LastError" = $2 WHERE "Id" = $1""")
            {
                Parameters = { new() { Value = id }, new() { Value = error.Length > 500 ? error[..500] : error } },
            });
        }
        if (mark.BatchCommands.Count > 0)
        {
            await mark.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    // A row whose message type no longer exists stays unpublished and marked, and never blocks the rest.
    private (object Body, Type Type)? TryRead(Row row, List<(Guid Id, string Error)> failed)
    {
        try
        {
            return OutboxMessage.Read(row.Type, row.Payload);
        }
        catch (Exception ex) when (ex is TypeLoadException or FileNotFoundException or System.Text.Json.JsonException or NotSupportedException)
        {
            logger.LogError("Outbox row {Id} ({Type}) cannot be read and is skipped: {Reason}", row.Id, row.Type, ex.Message);
            failed.Add((row.Id, ex.Message));
            return null;
        }
    }

    private sealed record Row(Guid Id, string Type, string Payload, string? TraceParent);
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
