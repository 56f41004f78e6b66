using System.ComponentModel.DataAnnotations;

namespace Gateway.Hosting.Dashboard.Telemetry;

/// <summary>How much telemetry the dashboard keeps in memory; the oldest goes first.</summary>
public sealed record TelemetryOptions
{
    public const string Section = "Dashboard:Telemetry";

    /// <summary>Spans kept across all traces.</summary>
    [Range(1, 10_000_000)]
    public int MaxSpans { get; init; } = 10_000;

    /// <summary>Log records kept across all services.</summary>
    [Range(1, 10_000_000)]
    public int MaxLogs { get; init; } = 10_000;

    /// <summary>How far back the metric charts reach.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan MetricsWindow { get; init; } = TimeSpan.FromMinutes(60);
}
