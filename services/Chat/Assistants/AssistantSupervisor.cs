using Gateway.Chat.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gateway.Chat.Assistants;

// Every CheckEvery, looks at each assistant that should be up (AssistantLifecycle.CheckAsync): become ready, crashed
// (restarted with back-off, failed after repeated crashes), idle (stopped), or lost with a restart of this Chat; and at
// each one left stopping by a Chat that went away midway. A running one is asked for /health too (ProbeAsync).
public sealed class AssistantSupervisor(
    IServiceScopeFactory scopes, IAssistantRuntime runtime, IHttpClientFactory clients, IOptions<AssistantOptions> options, TimeProvider clock,
    ILogger<AssistantSupervisor> logger) : BackgroundService
{
    private static readonly TimeSpan WatchEvery = TimeSpan.FromMilliseconds(100);
    private CancellationToken _stopping = CancellationToken.None;

    // A start just made is looked at every 100 ms until it is no longer starting (at most StartTimeout), so that it is
    // `running` as soon as it answers rather than at the next CheckEvery.
    public void Watch(Guid userId) => _ = Task.Run(async () =>
    {
        var until = clock.GetUtcNow() + options.Value.StartTimeout;
        try
        {
            while (!_stopping.IsCancellationRequested && clock.GetUtcNow() < until)
            {
                await Task.Delay(WatchEvery, clock, _stopping);
                await using var scope = scopes.CreateAsyncScope();
                var lifecycle = scope.ServiceProvider.GetRequiredService<AssistantLifecycle>();
                await lifecycle.CheckAsync(userId, _stopping);
                if ((await lifecycle.FindAsync(userId, _stopping))?.Status != AssistantStatus.Starting)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Watching the start of {UserId}'s assistant failed; the next regular look takes over", userId);
        }
        catch (OperationCanceledException)
        {
        }
    });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        using var timer = new PeriodicTimer(options.Value.CheckEvery, clock);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
                var up = await db.Assistants.AsNoTracking()
                    .Where(a => a.Status == AssistantStatus.Starting || a.Status == AssistantStatus.Running || a.Status == AssistantStatus.Stopping)
                    .Select(a => a.UserId).ToListAsync(stoppingToken);
                var lifecycle = scope.ServiceProvider.GetRequiredService<AssistantLifecycle>();
                foreach (var userId in up)
                {
                    await lifecycle.CheckAsync(userId, stoppingToken);
                    await ProbeAsync(lifecycle, userId, stoppingToken);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Looking at the running assistants failed; trying again in {Interval}", options.Value.CheckEvery);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    // A process that lives but answers nothing (hung) is `running` by what its runtime sees, and each tool call of its
    // owner's would wait out ToolTimeout, charged: one that does not answer its /health within HealthTimeout is restarted
    // as a crashed one is (asked outside the user's lock, which a turn may need meanwhile).
    private async Task ProbeAsync(AssistantLifecycle lifecycle, Guid userId, CancellationToken cancellationToken)
    {
        if (await runtime.GetAsync(userId, cancellationToken) is not { State: RuntimeState.Running, Endpoint: { } endpoint })
        {
            return;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.HealthTimeout);
        try
        {
            using var answer = await clients.CreateClient(AssistantTools.ClientName).GetAsync(new Uri(endpoint, "health"), timeout.Token);
            if (answer.IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException || ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
        }
        await lifecycle.NotAnsweringAsync(userId, endpoint, cancellationToken);
    }
}
