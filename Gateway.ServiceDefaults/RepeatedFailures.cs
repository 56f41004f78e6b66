using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.ServiceDefaults;

public static class RepeatedFailureRegistration
{
    // Called by every part that feeds it (ServiceDefaults, messaging); registered once.
    public static IServiceCollection AddRepeatedFailures(this IServiceCollection services)
    {
        services.TryAddSingleton(ServiceClock.Instance); // also where messaging is used without the rest of ServiceDefaults
        services.AddOptions<RepeatedFailureOptions>().BindConfiguration(RepeatedFailureOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<RepeatedFailures>();
        return services;
    }
}

public sealed record RepeatedFailureOptions
{
    public const string Section = "Gateway:RepeatedFailures";

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Gateway:RepeatedFailures:SummaryInterval must be between 1 second and 1 hour.")]
    public TimeSpan SummaryInterval { get; init; } = TimeSpan.FromSeconds(10);
}

// The log of a failure that repeats while something is down (a service behind the edge, the broker): the first of a
// kind (what failed, and why) is one line, its repeats one line per SummaryInterval ("Forwarding to chat failed 312
// times in the last 10 s: connection refused"), and the first success after it one more. Never a stack trace: the
// libraries that log these themselves (YARP, MassTransit) log each one with its exception (12,400 lines in 11 s while
// Chat restarted), nothing served summarises log entries, so their categories are quieted where this is fed.
public sealed class RepeatedFailures : IDisposable
{
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger<RepeatedFailures> _logger;
    private readonly ITimer _summaries;

    // Per (what, reason): repeats since the last summary. Present = already announced in this interval.
    private readonly ConcurrentDictionary<(string What, string Reason), int> _repeats = new();

    // What is failing now, since when: its next success is announced.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _failing = new();

    public RepeatedFailures(IOptions<RepeatedFailureOptions> options, TimeProvider time, ILogger<RepeatedFailures> logger)
    {
        (_interval, _time, _logger) = (options.Value.SummaryInterval, time, logger);
        _summaries = time.CreateTimer(_ => Summarise(what: null), null, _interval, _interval);
    }

    // Cheap enough for every request: most of the time nothing is failing.
    public bool AnyFailing => !_failing.IsEmpty;

    public void Record(string what, string reason)
    {
        _failing.TryAdd(what, _time.GetUtcNow());
        if (_repeats.TryAdd((what, reason), 0))
        {
            _logger.LogWarning("{What} failed: {Reason}", what, reason);
            return;
        }
        _repeats.AddOrUpdate((what, reason), 1, (_, count) => count + 1);
    }

    public void Recovered(string what)
    {
        if (!_failing.TryRemove(what, out var since))
        {
            return;
        }
        Summarise(what);
        _logger.LogInformation("{What} works again, {Seconds:0.0} s after it began failing", what, (_time.GetUtcNow() - since).TotalSeconds);
    }

    // In a few words and without an address: the innermost socket error, else the exception's type.
    public static string Reason(Exception exception)
    {
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused",
                    SocketError.ConnectionReset or SocketError.ConnectionAborted => "connection reset",
                    SocketError.TimedOut => "timed out",
                    SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "address not known",
                    var code => $"socket error {code}",
                };
            }
            if (inner is TimeoutException or TaskCanceledException)
            {
                return "timed out";
            }
        }
        return exception.GetType().Name;
    }

    public void Dispose()
    {
        _summaries.Dispose();
        Summarise(what: null);
    }

    private void Summarise(string? what)
    {
        foreach (var key in _repeats.Keys)
        {
            // A kind that did not come back this interval is forgotten, so its next failure is announced at once.
            if ((what is null || key.What == what) && _repeats.TryRemove(key, out var count) && count > 0)
            {
                _logger.LogWarning("{What} failed {Count} times in the last {Seconds} s: {Reason}", key.What, count, _interval.TotalSeconds, key.Reason);
            }
        }
    }
}
