namespace Gateway.Hosting.Dashboard.Telemetry;

/// <summary>
/// Builds the chart series from the metric store's increments. Each increment is spread evenly over the
/// buckets its interval covers, so the charts do not depend on the services' export interval.
/// </summary>
internal static class MetricCharts
{
    public const int RequestBucketSeconds = 10;
    public const int CreditBucketSeconds = 60;

    public static RequestMetrics Requests(IEnumerable<RequestSample> samples, ulong sinceNanos)
    {
        var buckets = new Dictionary<(string Service, ulong Start), RequestBucket>();
        foreach (var sample in samples)
        {
            foreach (var (start, share) in TimeBuckets.Spread(sample.FromNanos, sample.ToNanos, RequestBucketSeconds, sinceNanos))
            {
                if (!buckets.TryGetValue((sample.Service, start), out var bucket))
                {
                    buckets[(sample.Service, start)] = bucket = new RequestBucket();
                }
                bucket.Requests += sample.Count * share;
                bucket.Errors += sample.IsError ? sample.Count * share : 0;
                if (sample.Count > 0)
                {
                    bucket.Latency.Add(sample.BoundsMs, sample.BucketCounts, share);
                }
            }
        }
        var services = buckets
            .GroupBy(b => b.Key.Service)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(
                g => g.Key,
                g => (IReadOnlyList<RequestRatePoint>)g.OrderBy(b => b.Key.Start).Select(b => b.Value.ToPoint(b.Key.Start)).ToList());
        return new RequestMetrics(RequestBucketSeconds, services);
    }

    public static IReadOnlyList<CreditPoint> Credits(IEnumerable<CreditSample> samples, ulong sinceNanos)
    {
        var minutes = new SortedDictionary<ulong, (double Reserved, double Captured)>();
        foreach (var sample in samples)
        {
            foreach (var (start, share) in TimeBuckets.Spread(sample.FromNanos, sample.ToNanos, CreditBucketSeconds, sinceNanos))
            {
                var (reserved, captured) = minutes.GetValueOrDefault(start);
                minutes[start] = sample.Reserved
                    ? (reserved + sample.Amount * share, captured)
                    : (reserved, captured + sample.Amount * share);
            }
        }
        return minutes.Select(m => new CreditPoint(OtlpValues.Milliseconds(m.Key), m.Value.Reserved, m.Value.Captured)).ToList();
    }

    private sealed class RequestBucket
    {
        public double Requests { get; set; }
        public double Errors { get; set; }
        public LatencyHistogram Latency { get; } = new();

        public RequestRatePoint ToPoint(ulong startNanos) => new(
            OtlpValues.Milliseconds(startNanos),
            Requests / RequestBucketSeconds,
            Requests > 0 ? Errors / Requests : 0,
            Latency.Percentile(0.50),
            Latency.Percentile(0.99));
    }
}
