using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting;

public static class RestartExtensions
{
    /// <summary>
    /// Aspire 13.6 has no restart policy: a process that dies stays "Exited". This one is started again through its
    /// own Start command when it exits with a non-zero code, after 1 s, then 2, 4 … 30 s while it keeps dying (a
    /// minute up starts the count over). A Stop from the dashboard stays stopped, and nothing restarts while the
    /// AppHost stops.
    /// </summary>
    public static IResourceBuilder<T> WithRestarts<T>(this IResourceBuilder<T> builder) where T : IResource
    {
        if (builder.ApplicationBuilder.ExecutionContext.IsRunMode)
        {
            builder.WithAnnotation(new RestartOnCrashAnnotation());
            builder.ApplicationBuilder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CrashRestarts>());
        }
        return builder;
    }
}

internal sealed class RestartOnCrashAnnotation : IResourceAnnotation;

internal sealed class CrashRestarts(
    ResourceNotificationService notifications,
    ResourceCommandService commands,
    ResourceLoggerService loggers,
    IHostApplicationLifetime lifetime) : BackgroundService
{
    private static readonly TimeSpan StableAfter = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);
    private readonly Dictionary<string, (string? State, int Crashes, DateTimeOffset Started)> _seen = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var e in notifications.WatchAsync(stoppingToken))
        {
            if (!e.Resource.Annotations.OfType<RestartOnCrashAnnotation>().Any())
            {
                continue;
            }
            var state = e.Snapshot.State?.Text;
            var (previous, crashes, started) = _seen.GetValueOrDefault(e.ResourceId);
            if (state == previous)
            {
                continue;
            }
            if (state == KnownResourceStates.Running)
            {
                started = DateTimeOffset.UtcNow;
            }
            var crashed = (state == KnownResourceStates.Exited || state == KnownResourceStates.Finished)
                && previous == KnownResourceStates.Running
                && e.Snapshot.ExitCode is not (null or 0)
                && !lifetime.ApplicationStopping.IsCancellationRequested;
            if (crashed)
            {
                crashes = DateTimeOffset.UtcNow - started > StableAfter ? 1 : crashes + 1;
                var delay = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, crashes - 1), MaxDelay.TotalSeconds));
                loggers.GetLogger(e.ResourceId).LogWarning("Exited with code {ExitCode}: starting it again in {Delay} s", e.Snapshot.ExitCode, delay.TotalSeconds);
                _ = RestartAsync(e.ResourceId, delay, stoppingToken);
            }
            _seen[e.ResourceId] = (state, crashes, started);
        }
    }

    private async Task RestartAsync(string resourceId, TimeSpan delay, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(delay, stoppingToken);
            if (lifetime.ApplicationStopping.IsCancellationRequested)
            {
                return;
            }
            var result = await commands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand, stoppingToken);
            if (!result.Success)
            {
                loggers.GetLogger(resourceId).LogError("Could not start it again: {Reason}", result.Message);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
