namespace Gateway.Hosting.Dashboard.Telemetry;

/// <summary>
/// Request counts per latency bucket, merged from many series. The first series' bounds are kept; a series with
/// other bounds has each bucket moved whole into the bucket holding its upper bound.
/// </summary>
internal sealed class LatencyHistogram
{
    private double[] boundsMs = [];
    private double[] counts = [];

    public void Add(double[] sampleBoundsMs, double[] sampleCounts, double share)
    {
        if (counts.Length == 0)
        {
            boundsMs = sampleBoundsMs;
            counts = new double[sampleCounts.Length];
        }
        var same = sampleBoundsMs.AsSpan().SequenceEqual(boundsMs);
        for (var i = 0; i < sampleCounts.Length; i++)
        {
            var target = same ? i : BucketOf(i < sampleBoundsMs.Length ? sampleBoundsMs[i] : double.PositiveInfinity);
            counts[target] += sampleCounts[i] * share;
        }
    }

    /// <summary>The latency below which <paramref name="quantile"/> of the requests fall, interpolated linearly inside its bucket; null without requests or bounds.</summary>
    public double? Percentile(double quantile)
    {
        var total = counts.Sum();
        if (total <= 0 || boundsMs.Length == 0)
        {
            return null;
        }
        var rank = quantile * total;
        var below = 0.0;
        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] > 0 && below + counts[i] >= rank)
            {
                if (i >= boundsMs.Length)
                {
                    // The open bucket above the last bound: all we know is "more than".
                    return boundsMs[^1];
                }
                var lower = i == 0 ? Math.Min(0, boundsMs[0]) : boundsMs[i - 1];
                return lower + (boundsMs[i] - lower) * (rank - below) / counts[i];
            }
            below += counts[i];
        }
        return boundsMs[^1];
    }

    private int BucketOf(double upperBoundMs)
    {
        var index = Array.FindIndex(boundsMs, b => b >= upperBoundMs);
        return index >= 0 ? index : counts.Length - 1;
    }
}
