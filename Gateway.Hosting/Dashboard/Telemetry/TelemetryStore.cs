using System.Collections.Concurrent;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Collector.Logs;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Collector.Metrics;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Collector.Trace;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting.Dashboard.Telemetry;

/// <summary>
/// Every service's spans, logs and chart metrics as received over OTLP, bounded in memory (the oldest goes first)
/// and safe to use from any thread. A service is named by its resource's service.name.
/// </summary>
public sealed class TelemetryStore
{
    private readonly TraceBuffer traces;
    private readonly LogBuffer logs;
    private readonly MetricStore metrics;
    private readonly TimeProvider clock;
    private readonly TimeSpan metricsWindow;
    private readonly ConcurrentDictionary<string, bool> services = new(StringComparer.Ordinal);

    public TelemetryStore(IOptions<TelemetryOptions> options, TimeProvider clock)
    {
        traces = new TraceBuffer(options.Value.MaxSpans);
        logs = new LogBuffer(options.Value.MaxLogs);
        metricsWindow = options.Value.MetricsWindow;
        metrics = new MetricStore(metricsWindow, clock);
        this.clock = clock;
    }

    /// <summary>How far back the metric charts can reach.</summary>
    public TimeSpan MetricsWindow => metricsWindow;

    internal void Add(ExportTraceServiceRequest request)
    {
        var spans = new List<SpanRecord>();
        foreach (var resourceSpans in request.ResourceSpans)
        {
            var service = Seen(OtlpValues.ServiceName(resourceSpans.Resource));
            foreach (var span in resourceSpans.ScopeSpans.SelectMany(s => s.Spans))
            {
                if (SpanRecord.From(span, service) is { } record)
                {
                    spans.Add(record);
                }
            }
        }
        traces.Add(spans);
    }

    internal void Add(ExportLogsServiceRequest request)
    {
        var entries = new List<LogEntry>();
        foreach (var resourceLogs in request.ResourceLogs)
        {
            var service = Seen(OtlpValues.ServiceName(resourceLogs.Resource));
            foreach (var scopeLogs in resourceLogs.ScopeLogs)
            {
                entries.AddRange(scopeLogs.LogRecords.Select(r => LogEntry.From(r, service, scopeLogs.Scope?.Name)));
            }
        }
        logs.Add(entries);
    }

    internal void Add(ExportMetricsServiceRequest request)
    {
        foreach (var resourceMetrics in request.ResourceMetrics)
        {
            Seen(OtlpValues.ServiceName(resourceMetrics.Resource));
        }
        metrics.Add(request);
    }

    /// <summary>The service names seen in any signal, sorted.</summary>
    public IReadOnlyList<string> Services() => services.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>The newest traces (by start), optionally only those crossing <paramref name="service"/>.</summary>
    public IReadOnlyList<TraceSummary> Traces(string? service, int limit) => traces.Summaries(service, limit);

    /// <summary>A trace's spans, or null when none of them is held.</summary>
    public TraceDetail? Trace(string traceId) => traces.Find(traceId.ToLowerInvariant());

    /// <summary>The newest log records that match <paramref name="query"/>.</summary>
    public IReadOnlyList<LogView> Logs(LogQuery query) => logs.Find(query);

    /// <summary>Requests per second, error rate and latency percentiles per service over the last <paramref name="period"/>.</summary>
    public RequestMetrics Requests(TimeSpan period)
    {
        var since = Since(period);
        return MetricCharts.Requests(metrics.Requests(since), since);
    }

    /// <summary>Credits reserved and captured per minute over the last <paramref name="period"/>.</summary>
    public IReadOnlyList<CreditPoint> Credits(TimeSpan period)
    {
        var since = Since(period);
        return MetricCharts.Credits(metrics.Credits(since), since);
    }

    /// <summary>Every metric seen, with the service that exports it.</summary>
    public IReadOnlyList<MetricName> MetricNames() => metrics.Names();

    private ulong Since(TimeSpan period) => TimeBuckets.ToNanos(clock.GetUtcNow() - period);

    private string Seen(string service)
    {
        services.TryAdd(service, true);
        return service;
    }
}
