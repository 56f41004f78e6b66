namespace Gateway.Hosting.Dashboard.Telemetry;

// What the query API answers. Times are unix milliseconds, durations milliseconds, ids lowercase hex.

/// <summary>One trace in the list: its root (or earliest) span and the services it crossed.</summary>
public sealed record TraceSummary(
    string TraceId,
    string Name,
    string Service,
    IReadOnlyList<string> Services,
    double StartTime,
    double DurationMs,
    int SpanCount,
    bool HasError);

/// <summary>A trace's spans, earliest first.</summary>
public sealed record TraceDetail(string TraceId, IReadOnlyList<SpanView> Spans);

/// <summary>One span of a trace's waterfall.</summary>
public sealed record SpanView(
    string SpanId,
    string? ParentSpanId,
    string Service,
    string Name,
    string Kind,
    double StartTime,
    double DurationMs,
    string Status,
    string StatusMessage,
    IReadOnlyDictionary<string, string> Attributes,
    IReadOnlyList<SpanEventView> Events);

/// <summary>A time-stamped event on a span (an exception, a retry).</summary>
public sealed record SpanEventView(string Name, double Time, IReadOnlyDictionary<string, string> Attributes);

/// <summary>One log record.</summary>
public sealed record LogView(
    double Time,
    string Service,
    string Level,
    string Category,
    string Message,
    string? TraceId,
    string? SpanId,
    IReadOnlyDictionary<string, string> Attributes);

/// <summary>Which logs to return: a service, a minimum level, a trace, a substring of the message.</summary>
public sealed record LogQuery(string? Service, LogLevelName? MinLevel, string? TraceId, string? Text, int Limit);

/// <summary>The six levels of Microsoft.Extensions.Logging that OTLP's severity numbers map onto.</summary>
public enum LogLevelName
{
    Trace,
    Debug,
    Information,
    Warning,
    Error,
    Critical,
}

/// <summary>Server request charts per service, in buckets of <see cref="BucketSeconds"/>.</summary>
public sealed record RequestMetrics(int BucketSeconds, IReadOnlyDictionary<string, IReadOnlyList<RequestRatePoint>> Services);

/// <summary>
/// One bucket of a service's server requests. Percentiles are null when the bucket saw no request;
/// a bucket that no export of the service covered is left out.
/// </summary>
public sealed record RequestRatePoint(double Time, double RequestsPerSecond, double ErrorRate, double? P50Ms, double? P99Ms);

/// <summary>Credits reserved and captured in one minute, summed over every Billing instance.</summary>
public sealed record CreditPoint(double Time, double Reserved, double Captured);

/// <summary>A metric some service exports, for debugging the charts.</summary>
public sealed record MetricName(string Name, string Service, string Type, string Unit);
