namespace Gateway.Hosting.Dashboard.Telemetry;

/// <summary>Spreads an increment evenly over the fixed-size time buckets its interval covers.</summary>
internal static class TimeBuckets
{
    private const ulong NanosPerSecond = 1_000_000_000;

    /// <summary>Each bucket's start (unix nanoseconds) at or after <paramref name="sinceNanos"/>, with the share of the interval in it.</summary>
    public static IEnumerable<(ulong Start, double Share)> Spread(ulong fromNanos, ulong toNanos, int bucketSeconds, ulong sinceNanos)
    {
        var size = (ulong)bucketSeconds * NanosPerSecond;
        sinceNanos = Floor(sinceNanos, size);
        if (toNanos <= fromNanos)
        {
            var start = Floor(toNanos, size);
            if (start >= sinceNanos)
            {
                yield return (start, 1);
            }
            yield break;
        }
        var length = (double)(toNanos - fromNanos);
        for (var bucket = Math.Max(Floor(fromNanos, size), sinceNanos); bucket < toNanos; bucket += size)
        {
            var overlap = Math.Min(toNanos, bucket + size) - Math.Max(fromNanos, bucket);
            yield return (bucket, overlap / length);
        }
    }

    public static ulong Floor(ulong nanos, ulong size) => nanos - nanos % size;

    public static ulong ToNanos(DateTimeOffset time) => (ulong)(time.ToUnixTimeMilliseconds() * 1_000_000);
}
