using Gateway.Hosting.Dashboard.Telemetry.Otlp.Collector.Logs;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Collector.Metrics;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Collector.Trace;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Common;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Logs;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Metrics;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Resource;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Trace;
using Google.Protobuf;

namespace Gateway.Dashboard.Tests;

/// <summary>Hand-built OTLP export requests, for what the SDK cannot be made to send on cue.</summary>
internal static class OtlpRequests
{
    public static ulong Now => (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;

    public static ExportTraceServiceRequest Spans(string service, IEnumerable<int> traces)
    {
        var scope = new ScopeSpans();
        scope.Spans.AddRange(traces.Select(n => new Span
        {
            TraceId = Id(n, 16),
            SpanId = Id(n, 8),
            Name = $"span {n}",
            StartTimeUnixNano = Now,
            EndTimeUnixNano = Now,
        }));
        return new ExportTraceServiceRequest { ResourceSpans = { new ResourceSpans { Resource = Resource(service), ScopeSpans = { scope } } } };
    }

    public static ExportLogsServiceRequest Logs(string service, IEnumerable<int> messages)
    {
        var scope = new ScopeLogs();
        scope.LogRecords.AddRange(messages.Select(n => new LogRecord
        {
            TimeUnixNano = Now,
            SeverityNumber = SeverityNumber.Info,
            Body = new AnyValue { StringValue = $"message {n}" },
        }));
        return new ExportLogsServiceRequest { ResourceLogs = { new ResourceLogs { Resource = Resource(service), ScopeLogs = { scope } } } };
    }

    public static ExportMetricsServiceRequest Counter(string service, string name, AggregationTemporality temporality, ulong start, ulong time, long value)
    {
        var sum = new Sum { AggregationTemporality = temporality, IsMonotonic = true };
        sum.DataPoints.Add(new NumberDataPoint { StartTimeUnixNano = start, TimeUnixNano = time, AsInt = value });
        var metric = new Metric { Name = name, Unit = "{credit}", Sum = sum };
        return new ExportMetricsServiceRequest
        {
            ResourceMetrics = { new ResourceMetrics { Resource = Resource(service), ScopeMetrics = { new ScopeMetrics { Metrics = { metric } } } } },
        };
    }

    /// <summary>One http.server.request.duration point: a status code and its counts per bucket.</summary>
    public static ExportMetricsServiceRequest Requests(
        string service, string unit, AggregationTemporality temporality, ulong start, ulong time, int status, double[] bounds, ulong[] counts)
    {
        var point = new HistogramDataPoint { StartTimeUnixNano = start, TimeUnixNano = time, Count = (ulong)counts.Sum(c => (long)c) };
        point.ExplicitBounds.AddRange(bounds);
        point.BucketCounts.AddRange(counts);
        point.Attributes.Add(new KeyValue { Key = "http.response.status_code", Value = new AnyValue { IntValue = status } });
        point.Attributes.Add(new KeyValue { Key = "http.route", Value = new AnyValue { StringValue = "/v1/chat/completions" } });
        var histogram = new Histogram { AggregationTemporality = temporality, DataPoints = { point } };
        var metric = new Metric { Name = "http.server.request.duration", Unit = unit, Histogram = histogram };
        return new ExportMetricsServiceRequest
        {
            ResourceMetrics = { new ResourceMetrics { Resource = Resource(service), ScopeMetrics = { new ScopeMetrics { Metrics = { metric } } } } },
        };
    }

    public static string Hex(int n, int bytes) => Convert.ToHexStringLower(Id(n, bytes).Span);

    private static ByteString Id(int n, int bytes)
    {
        var id = new byte[bytes];
        BitConverter.TryWriteBytes(id.AsSpan(bytes - 4), n + 1);
        return ByteString.CopyFrom(id);
    }

    private static Resource Resource(string service) => new()
    {
        Attributes =
        {
            new KeyValue { Key = "service.name", Value = new AnyValue { StringValue = service } },
            new KeyValue { Key = "service.instance.id", Value = new AnyValue { StringValue = service + "-1" } },
        },
    };
}
