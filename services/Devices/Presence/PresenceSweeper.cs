using Microsoft.Extensions.Options;

namespace Gateway.Devices.Presence;

// Every instance sweeps; the row lock in PresenceTracker makes a device go offline once however many do.
public sealed class PresenceSweeper(
    IServiceScopeFactory scopes, PresenceStore store, IOptions<PresenceOptions> options, TimeProvider time, ILogger<PresenceSweeper> logger)
    : BackgroundService
{
    private const int BatchSize = 500;

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
}
