using Gateway.Hosting.Dashboard.Telemetry.Otlp.Logs;

namespace Gateway.Hosting.Dashboard.Telemetry;

/// <summary>A received log record as the store keeps it.</summary>
internal sealed record LogEntry(
    ulong TimeNanos,
    string Service,
    LogLevelName Level,
    string Category,
    string Message,
    string? TraceId,
    string? SpanId,
    KeyValuePair<string, string>[] Attributes)
{
    public static LogEntry From(LogRecord record, string service, string? scope) => new(
        record.TimeUnixNano != 0 ? record.TimeUnixNano : record.ObservedTimeUnixNano,
        service,
        LevelOf(record),
        scope is { Length: > 0 } ? scope : OtlpValues.Find(record.Attributes, "category") ?? "",
        OtlpValues.Text(record.Body),
        OtlpValues.Hex(record.TraceId),
        OtlpValues.Hex(record.SpanId),
        OtlpValues.Attributes(record.Attributes));

    public LogView ToView() => new(
        OtlpValues.Milliseconds(TimeNanos),
        Service,
        Level.ToString(),
        Category,
        Message,
        TraceId,
        SpanId,
        Attributes.ToDictionary(a => a.Key, a => a.Value));

    // OTLP's severity numbers come in fours (TRACE..TRACE4, DEBUG..DEBUG4, ...); FATAL is .NET's Critical.
    private static LogLevelName LevelOf(LogRecord record)
    {
        var number = (int)record.SeverityNumber;
        if (number is >= 1 and <= 24)
        {
            return (LogLevelName)((number - 1) / 4);
        }
        return Enum.TryParse<LogLevelName>(record.SeverityText, ignoreCase: true, out var level) ? level : LogLevelName.Information;
    }
}
