using Gateway.Devices.Fleet;
using Gateway.Devices.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gateway.Devices.Presence;

// Every instance sweeps; the row lock in PresenceTracker makes a device go offline once however many do.
public sealed class PresenceSweeper(
    IServiceScopeFactory scopes, PresenceStore store, IOptions<PresenceOptions> options, TimeProvider time, ILogger<PresenceSweeper> logger)
    : BackgroundService
{
    private const int BatchSize = 500;
    private DateTimeOffset _reconciledAt = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Redis or Postgres away: the next tick tries again, nobody is marked wrongly meanwhile.
                logger.LogWarning("Presence sweep failed, will retry: {Reason}", ex.Message);
            }
        }
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        if (time.GetUtcNow() - _reconciledAt > options.Value.ReconcileInterval)
        {
            await ReconcileAsync(cancellationToken);
            _reconciledAt = time.GetUtcNow();
        }
        var cutoff = time.GetUtcNow() - options.Value.OfflineAfter;
        foreach (var (deviceId, _) in await store.SilentSinceAsync(cutoff, BatchSize))
        {
            await using var scope = scopes.CreateAsyncScope();
            var tracker = scope.ServiceProvider.GetRequiredService<PresenceTracker>();
            if (await tracker.MarkOfflineIfSilentAsync(deviceId, cutoff, cancellationToken) is { } lastSeen)
            {
                await store.ForgetIfSilentAsync(deviceId, lastSeen);
            }
        }
    }

    // A device online in Postgres but unknown to Redis (Redis lost its data) would never be swept; put it
    // back with the last time Postgres saw it, and the sweep above takes it from there.
    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DevicesDbContext>();
        var after = Guid.Empty;
        while (true)
        {
            var online = await db.Devices.AsNoTracking()
                .Where(d => d.Status == DeviceStatus.Online && d.Id > after)
                .OrderBy(d => d.Id).Take(BatchSize)
                .Select(d => new { d.Id, d.LastSeenAt })
                .ToListAsync(cancellationToken);
            if (online.Count == 0)
            {
                return;
            }
            await store.RestoreIfMissingAsync([.. online.Select(d => (d.Id, d.LastSeenAt ?? DateTimeOffset.UnixEpoch))]);
            after = online[^1].Id;
        }
    }
}
