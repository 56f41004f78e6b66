using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Gateway.Billing.Ledger;

// Releases holds whose expiry has passed and that nobody captured or released. Racing a late capture
// is harmless: whoever deletes the open hold first resolves it, the other is told it is resolved.
// A hold whose holder (a running Chat) has been silent for HolderLease expires now rather than at its
// HoldFor: its requester crashed and nobody will capture or release it. Silence counts only while Billing
// itself has been connected to the broker for a whole lease, since a broker outage silences every holder.
public sealed class HoldSweeper(
    NpgsqlDataSource database, CreditLedger ledger, IBusControl bus, TimeProvider clock, IOptions<LedgerOptions> options, ILogger<HoldSweeper> logger)
    : BackgroundService
{
    private const int BatchSize = 500;

    private DateTimeOffset? _listeningSince;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval);
        do
        {
            try
            {
                await ExpireSilentHoldersAsync(stoppingToken);
                int expired;
                do
                {
                    expired = await SweepAsync(stoppingToken);
                } while (expired == BatchSize);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Releasing expired holds failed, will retry: {Reason}", ex.Message);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    // Brings the expiry of a silent holder's holds forward to now; SweepAsync then releases them.
    public async Task<int> ExpireSilentHoldersAsync(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        if (bus.CheckHealth().Status != BusHealthStatus.Healthy)
        {
            _listeningSince = null;
            return 0;
        }
        _listeningSince ??= now;
        var lease = options.Value.HolderLease;
        if (now - _listeningSince < lease)
        {
            return 0;
        }
        await using var command = database.CreateCommand("""
            WITH silent AS (
                UPDATE open_holds h SET expires_at = now()
                WHERE h.holder IS NOT NULL AND h.expires_at > now() AND h.created_at < now() - $1
                  AND NOT EXISTS (SELECT 1 FROM holder_leases l WHERE l.holder = h.holder AND l.renewed_at >= now() - $1)
                RETURNING h.holder),
            forgotten_leases AS (DELETE FROM holder_leases WHERE renewed_at < now() - interval '1 day'),
            forgotten_cancellations AS (DELETE FROM cancelled_reservations WHERE cancelled_at < now() - $2)
            SELECT holder, count(*) FROM silent GROUP BY holder
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = lease });
        command.Parameters.Add(new NpgsqlParameter { Value = options.Value.MaxHold * 2 });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var total = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            var count = reader.GetInt64(1);
            total += (int)count;
            logger.LogWarning("Holder {Holder} has not renewed its holds for {Lease}: its {Count} open holds are released", reader.GetGuid(0), lease, count);
        }
        return total;
    }

    public async Task<int> SweepAsync(CancellationToken cancellationToken = default)
    {
        var due = new List<Guid>();
        await using (var command = database.CreateCommand("SELECT hold_id FROM open_holds WHERE expires_at <= now() ORDER BY expires_at LIMIT $1"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = BatchSize });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                due.Add(reader.GetGuid(0));
            }
        }

        foreach (var holdId in due)
        {
            await ledger.ExpireAsync(holdId, cancellationToken);
        }
        if (due.Count > 0)
        {
            logger.LogInformation("Released {Count} expired holds", due.Count);
        }
        return due.Count;
    }
}
