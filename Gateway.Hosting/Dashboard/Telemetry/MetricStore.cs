using Gateway.Hosting.Dashboard.Telemetry.Otlp.Collector.Metrics;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Common;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Metrics;
using Google.Protobuf.Collections;

namespace Gateway.Hosting.Dashboard.Telemetry;

/// <summary>
/// Keeps, for a sliding window, the increments the charts need: server request latencies per service
/// (ASP.NET Core's http.server.request.duration) and Billing's credit counters. Every other metric is only named.
/// </summary>
internal sealed class MetricStore(TimeSpan window, TimeProvider clock)
{
    public const string RequestDuration = "http.server.request.duration";
    public const string CreditsReserved = "gateway.billing.credits.reserved";
    public const string CreditsCaptured = "gateway.billing.credits.captured";

    private readonly Lock gate = new();
    private readonly SeriesDeltas deltas = new();
    // When each process last exported each metric, so a new series counts from then.
    private readonly Dictionary<string, ulong> lastExports = [];
    private readonly Dictionary<(string Service, string Name), MetricName> names = [];
    private readonly Queue<RequestSample> requests = new();
    private readonly Queue<CreditSample> credits = new();

    public void Add(ExportMetricsServiceRequest request)
    {
        lock (gate)
        {
            foreach (var resourceMetrics in request.ResourceMetrics)
            {
                var service = OtlpValues.ServiceName(resourceMetrics.Resource);
                var instance = OtlpValues.Instance(resourceMetrics.Resource);
                foreach (var metric in resourceMetrics.ScopeMetrics.SelectMany(s => s.Metrics))
                {
                    names[(service, metric.Name)] = new MetricName(metric.Name, service, TypeName(metric), metric.Unit);
                    var stream = instance + "\n" + metric.Name;
                    var lastExport = lastExports.GetValueOrDefault(stream);
                    var exported = metric.Name switch
                    {
                        RequestDuration when metric.DataCase == Metric.DataOneofCase.Histogram => AddRequests(service, stream, metric, lastExport),
                        CreditsReserved or CreditsCaptured when metric.DataCase == Metric.DataOneofCase.Sum => AddCredits(stream, metric, lastExport),
                        _ => 0UL,
                    };
                    if (exported > lastExport)
                    {
                        lastExports[stream] = exported;
                    }
                }
            }
            Prune();
        }
    }

    public IReadOnlyList<MetricName> Names()
    {
        lock (gate)
        {
            return names.Values.OrderBy(n => n.Service, StringComparer.Ordinal).ThenBy(n => n.Name, StringComparer.Ordinal).ToList();
        }
    }

    public RequestSample[] Requests(ulong sinceNanos)
    {
        lock (gate)
        {
            return requests.Where(r => r.ToNanos >= sinceNanos).ToArray();
        }
    }

    public CreditSample[] Credits(ulong sinceNanos)
    {
        lock (gate)
        {
            return credits.Where(c => c.ToNanos >= sinceNanos).ToArray();
        }
    }

    // Returns the latest point time of the export.
    private ulong AddRequests(string service, string stream, Metric metric, ulong lastExport)
    {
        var histogram = metric.Histogram;
        var cumulative = histogram.AggregationTemporality == AggregationTemporality.Cumulative;
        var toMilliseconds = metric.Unit == "ms" ? 1.0 : 1000.0;
        ulong exported = 0;
        foreach (var point in histogram.DataPoints)
        {
            exported = Math.Max(exported, point.TimeUnixNano);
            if (point.BucketCounts.Count != point.ExplicitBounds.Count + 1
                || OtlpValues.Find(point.Attributes, "http.route")?.StartsWith("/health", StringComparison.Ordinal) == true)
            {
                continue;
            }
            double[] values = [point.Count, .. point.BucketCounts.Select(c => (double)c)];
            if (deltas.Next(SeriesKey(stream, point.Attributes), cumulative, point.StartTimeUnixNano, point.TimeUnixNano, values, lastExport) is not { } increment)
            {
                continue;
            }
            var count = increment.Values[0];
            var isError = int.TryParse(OtlpValues.Find(point.Attributes, "http.response.status_code"), out var status) && status >= 500;
            requests.Enqueue(count > 0
                ? new RequestSample(service, increment.FromNanos, increment.ToNanos, isError, count,
                    point.ExplicitBounds.Select(b => b * toMilliseconds).ToArray(), increment.Values[1..])
                : new RequestSample(service, increment.FromNanos, increment.ToNanos, isError, 0, [], []));
        }
        return exported;
    }

    private ulong AddCredits(string stream, Metric metric, ulong lastExport)
    {
        var sum = metric.Sum;
        var cumulative = sum.AggregationTemporality == AggregationTemporality.Cumulative;
        var reserved = metric.Name == CreditsReserved;
        ulong exported = 0;
        foreach (var point in sum.DataPoints)
        {
            exported = Math.Max(exported, point.TimeUnixNano);
            double value = point.ValueCase == NumberDataPoint.ValueOneofCase.AsInt ? point.AsInt : point.AsDouble;
            if (deltas.Next(SeriesKey(stream, point.Attributes), cumulative, point.StartTimeUnixNano, point.TimeUnixNano, [value], lastExport) is { } increment)
            {
                credits.Enqueue(new CreditSample(reserved, increment.FromNanos, increment.ToNanos, increment.Values[0]));
            }
        }
        return exported;
    }

    private void Prune()
    {
        var cutoff = TimeBuckets.ToNanos(clock.GetUtcNow() - window);
        while (requests.TryPeek(out var oldest) && oldest.ToNanos < cutoff)
        {
            requests.Dequeue();
        }
        while (credits.TryPeek(out var oldest) && oldest.ToNanos < cutoff)
        {
            credits.Dequeue();
        }
        deltas.Forget(cutoff);
        foreach (var (stream, time) in lastExports)
        {
            if (time < cutoff)
            {
                lastExports.Remove(stream);
            }
        }
    }

    private static string SeriesKey(string stream, RepeatedField<KeyValue> attributes) =>
        stream + "\n" + string.Join("\n", attributes.Select(a => a.Key + "=" + OtlpValues.Text(a.Value)).Order(StringComparer.Ordinal));

    private static string TypeName(Metric metric) => metric.DataCase switch
    {
        Metric.DataOneofCase.Gauge => "gauge",
        Metric.DataOneofCase.Sum => "sum",
        Metric.DataOneofCase.Histogram => "histogram",
        Metric.DataOneofCase.ExponentialHistogram => "exponentialHistogram",
        Metric.DataOneofCase.Summary => "summary",
        _ => "unknown",
    };
}
