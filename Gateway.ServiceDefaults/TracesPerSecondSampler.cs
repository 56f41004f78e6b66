using System.Diagnostics;
using OpenTelemetry.Trace;

namespace Gateway.ServiceDefaults;

// Starts at most a given number of new traces a second in this process (a token bucket, a second's worth deep); the
// roots beyond that are not sampled. Used as the root sampler behind ParentBasedSampler, so a service follows the
// decision its caller made and a sampled trace is whole from edge to Billing. Idle and light traffic is traced in
// full; a load adds no more export work than this many traces a second per process. Infinity samples everything.
public sealed class TracesPerSecondSampler : Sampler
{
    private readonly double _perSecond;
    private readonly Lock _lock = new();
    private double _tokens;
    private long _refilledAt = Stopwatch.GetTimestamp();

    public TracesPerSecondSampler(double perSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        _perSecond = perSecond;
        _tokens = perSecond;
        Description = $"TracesPerSecond{{{perSecond}}}";
    }

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        if (double.IsPositiveInfinity(_perSecond))
        {
            return new SamplingResult(SamplingDecision.RecordAndSample);
        }
        lock (_lock)
        {
            var now = Stopwatch.GetTimestamp();
            _tokens = Math.Min(_perSecond, _tokens + Stopwatch.GetElapsedTime(_refilledAt, now).TotalSeconds * _perSecond);
            _refilledAt = now;
            if (_tokens < 1)
            {
                return new SamplingResult(SamplingDecision.Drop);
            }
            _tokens--;
            return new SamplingResult(SamplingDecision.RecordAndSample);
        }
    }
}
