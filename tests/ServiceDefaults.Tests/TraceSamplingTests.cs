using System.Diagnostics;
using Gateway.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;

namespace ServiceDefaults.Tests;

// Under load a process starts at most Gateway:Telemetry:TracesPerSecond new traces; a span whose caller sampled its
// trace is recorded whatever the budget, so a sampled trace is whole across services (and the reverse).
// Alone: the sampler also sees the HTTP and ASP.NET Core activities of tests running beside it, which take its tokens.
[Collection(nameof(Alone))]
public sealed class TraceSamplingTests
{
    private static readonly ActivitySource Source = new("Gateway.SamplingTests");

    [Fact]
    public void Beyond_its_traces_a_second_a_process_records_new_traces_unsampled_while_spans_follow_their_callers_decision()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new()); // no appsettings.json: the test output holds the edge's
        builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9"; // nothing listens: export fails quietly
        builder.Configuration["OTEL_TRACES_SAMPLER"] = "always_on"; // as Aspire sets it: the configured sampler wins
        builder.Configuration[Telemetry.TracesPerSecondSetting] = "5";
        builder.ConfigureOpenTelemetry();
        using var host = builder.Build();
        _ = host.Services.GetRequiredService<TracerProvider>();

        var roots = Enumerable.Range(0, 50).Select(_ =>
        {
            using var root = Source.StartActivity("root");
            return root is { Recorded: true };
        }).Count(recorded => recorded);
        Assert.InRange(roots, 5, 6); // the bucket's five, and one more if a fifth of a second passed

        var sampledCaller = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
        using (var child = Source.StartActivity("from a sampled caller", ActivityKind.Server, sampledCaller))
        {
            Assert.True(child is { Recorded: true, IsAllDataRequested: true });
        }
        var unsampledCaller = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);
        using (var child = Source.StartActivity("from an unsampled caller", ActivityKind.Server, unsampledCaller))
        {
            Assert.False(child?.Recorded ?? false);
        }
    }

    [Fact]
    public void Where_callers_are_outside_a_sampled_traceparent_counts_against_the_limit_like_a_new_trace()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new()); // no appsettings.json: the test output holds the edge's
        builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9";
        builder.Configuration[Telemetry.TracesPerSecondSetting] = "5";
        builder.Configuration[Telemetry.FollowCallerSamplingSetting] = "false";
        builder.ConfigureOpenTelemetry();
        using var host = builder.Build();
        _ = host.Services.GetRequiredService<TracerProvider>();

        var traceId = ActivityTraceId.CreateRandom();
        var recorded = Enumerable.Range(0, 50).Select(_ =>
        {
            var sampledCaller = new ActivityContext(traceId, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
            using var request = Source.StartActivity("from outside", ActivityKind.Server, sampledCaller);
            Assert.Equal(traceId, request?.TraceId); // the caller's trace id is kept
            return request is { Recorded: true };
        }).Count(r => r);
        Assert.InRange(recorded, 5, 6);
    }

    [Fact]
    public void With_no_limit_every_trace_is_recorded()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new()); // no appsettings.json: the test output holds the edge's
        builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9";
        builder.Configuration[Telemetry.TracesPerSecondSetting] = "0";
        builder.ConfigureOpenTelemetry();
        using var host = builder.Build();
        _ = host.Services.GetRequiredService<TracerProvider>();

        Assert.All(Enumerable.Range(0, 50), _ =>
        {
            using var root = Source.StartActivity("root");
            Assert.True(root is { Recorded: true });
        });
    }
}

[CollectionDefinition(nameof(Alone), DisableParallelization = true)]
public sealed class Alone;
