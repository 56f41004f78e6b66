using System.Globalization;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Common;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace Gateway.Hosting.Dashboard.Telemetry;

/// <summary>Reads OTLP's wire values as the dashboard shows them: strings, lowercase hex ids, unix milliseconds.</summary>
internal static class OtlpValues
{
    public const string UnknownService = "unknown_service";

    public static string ServiceName(Otlp.Resource.Resource? resource) =>
        Find(resource?.Attributes, "service.name") is { Length: > 0 } name ? name : UnknownService;

    // One process's series; a service without an instance id is taken as one process.
    public static string Instance(Otlp.Resource.Resource? resource) =>
        Find(resource?.Attributes, "service.instance.id") ?? ServiceName(resource);

    public static string? Find(RepeatedField<KeyValue>? attributes, string key)
    {
        if (attributes is null)
        {
            return null;
        }
        foreach (var attribute in attributes)
        {
            if (attribute.Key == key)
            {
                return Text(attribute.Value);
            }
        }
        return null;
    }

    public static KeyValuePair<string, string>[] Attributes(RepeatedField<KeyValue> attributes)
    {
        var result = new KeyValuePair<string, string>[attributes.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = new(attributes[i].Key, Text(attributes[i].Value));
        }
        return result;
    }

    public static string Text(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
        AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue.ToString(CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.ArrayValue => "[" + string.Join(", ", value.ArrayValue.Values.Select(Text)) + "]",
        AnyValue.ValueOneofCase.KvlistValue => "{" + string.Join(", ", value.KvlistValue.Values.Select(kv => $"{kv.Key}: {Text(kv.Value)}")) + "}",
        AnyValue.ValueOneofCase.BytesValue => Convert.ToBase64String(value.BytesValue.Span),
        _ => "",
    };

    // Empty or all-zero ids mean "none" in OTLP.
    public static string? Hex(ByteString id) =>
        id.IsEmpty || !id.Span.ContainsAnyExcept((byte)0) ? null : Convert.ToHexStringLower(id.Span);

    public static double Milliseconds(ulong unixNanos) => unixNanos / 1_000_000.0;
}
