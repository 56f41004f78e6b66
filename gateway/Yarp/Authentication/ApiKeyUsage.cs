using System.Collections.Concurrent;
using Gateway.Contracts;
using MassTransit;

namespace Gateway.Edge.Authentication;

// Remembers the last use of each key and reports them in one message every few seconds, so lastUsedAt
// stays current without a database write on the request path.
public sealed class ApiKeyUsage(IServiceScopeFactory scopes, TimeProvider time, ILogger<ApiKeyUsage> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private ConcurrentDictionary<Guid, DateTimeOffset> _uses = new();

    public void Record(Guid keyId) => _uses[keyId] = time.GetUtcNow();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await FlushAsync(stoppingToken);
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_uses.IsEmpty)
        {
            return;
        }
        var batch = Interlocked.Exchange(ref _uses, new());
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var publisher = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
            // At most until the next report is due: a stalled broker never confirms, and the publish waits for its confirm.
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(Interval);
            await publisher.Publish(new ApiKeysUsed(batch.Select(u => new ApiKeyUse(u.Key, u.Value)).ToList()), attempt.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Only a "last used" time is at stake: keep the newest and try again next tick.
            foreach (var (key, at) in batch)
            {
                _uses.AddOrUpdate(key, at, (_, newer) => newer > at ? newer : at);
            }
            logger.LogWarning("Could not report API key use: {Reason}", ex.Message);
        }
    }
}
