using Gateway.Hosting.Dashboard.Telemetry.Otlp.Trace;
using StatusCode = Gateway.Hosting.Dashboard.Telemetry.Otlp.Trace.Status.Types.StatusCode;

namespace Gateway.Hosting.Dashboard.Telemetry;

/// <summary>A received span as the store keeps it: strings and arrays, no protobuf objects.</summary>
internal sealed record SpanRecord(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Service,
    string Name,
    string Kind,
    ulong StartNanos,
    ulong EndNanos,
    string Status,
    string StatusMessage,
    KeyValuePair<string, string>[] Attributes,
    SpanEventRecord[] Events)
{
    public bool IsRoot => ParentSpanId is null;

    public static SpanRecord? From(Span span, string service)
    {
        if (OtlpValues.Hex(span.TraceId) is not { } traceId || OtlpValues.Hex(span.SpanId) is not { } spanId)
        {
            return null;
        }
        return new SpanRecord(
            traceId,
            spanId,
            OtlpValues.Hex(span.ParentSpanId),
            service,
            span.Name,
            KindName(span.Kind),
            span.StartTimeUnixNano,
            Math.Max(span.StartTimeUnixNano, span.EndTimeUnixNano),
            StatusName(span.Status?.Code ?? StatusCode.Unset),
            span.Status?.Message ?? "",
            OtlpValues.Attributes(span.Attributes),
            span.Events.Select(e => new SpanEventRecord(e.Name, e.TimeUnixNano, OtlpValues.Attributes(e.Attributes))).ToArray());
    }

    public SpanView ToView() => new(
        SpanId,
        ParentSpanId,
        Service,
        Name,
        Kind,
        OtlpValues.Milliseconds(StartNanos),
        (EndNanos - StartNanos) / 1_000_000.0,
        Status,
        StatusMessage,
        ToDictionary(Attributes),
        Events.Select(e => new SpanEventView(e.Name, OtlpValues.Milliseconds(e.TimeNanos), ToDictionary(e.Attributes))).ToArray());

    private static Dictionary<string, string> ToDictionary(KeyValuePair<string, string>[] attributes)
    {
        var result = new Dictionary<string, string>(attributes.Length);
        foreach (var (key, value) in attributes)
        {
            result[key] = value;
        }
        return result;
    }

    private static string KindName(Span.Types.SpanKind kind) => kind switch
    {
        Span.Types.SpanKind.Server => "server",
        Span.Types.SpanKind.Client => "client",
        Span.Types.SpanKind.Producer => "producer",
        Span.Types.SpanKind.Consumer => "consumer",
        _ => "internal",
    };

    private static string StatusName(StatusCode code) => code switch
    {
        StatusCode.Ok => "ok",
        StatusCode.Error => "error",
        _ => "unset",
    };
}

/// <summary>A span event as the store keeps it.</summary>
internal sealed record SpanEventRecord(string Name, ulong TimeNanos, KeyValuePair<string, string>[] Attributes);
