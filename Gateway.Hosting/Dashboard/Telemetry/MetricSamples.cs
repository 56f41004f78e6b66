namespace Gateway.Hosting.Dashboard.Telemetry;

/// <summary>
/// Server requests of one series (one status code, route, method) over an interval: how many, and how many in
/// each latency bucket (bounds in milliseconds; the last bucket is open above).
/// </summary>
internal sealed record RequestSample(string Service, ulong FromNanos, ulong ToNanos, bool IsError, double Count, double[] BoundsMs, double[] BucketCounts);

/// <summary>Credits reserved or captured by one series over an interval.</summary>
internal sealed record CreditSample(bool Reserved, ulong FromNanos, ulong ToNanos, double Amount);
