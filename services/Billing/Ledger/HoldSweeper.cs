using Microsoft.Extensions.Options;
using Npgsql;

namespace Gateway.Billing.Ledger;

// Releases holds whose expiry has passed and that nobody captured or released. Racing a late capture
// is harmless: whoever deletes the open hold first resolves it, the other is told it is resolved.
public sealed class HoldSweeper(NpgsqlDataSource database, Ledger ledger, IOptions<LedgerOptions> options, ILogger<HoldSweeper> logger) : BackgroundService
{
    private const int BatchSize = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval);
        do
        {
            try
            {
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
