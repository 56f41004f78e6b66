using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.ServiceDefaults;

// Postgres cannot store the NUL character in text, so a request body carrying one in any string is refused
// when it is read, as a 400 naming the field (ProblemResponses), instead of failing with a 500 when it is saved.
public sealed class StringWithoutNulConverter : JsonConverter<string>
{
    public const string Reason = "Text cannot contain the NUL character (\\u0000).";

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null or JsonTokenType.PropertyName))
        {
            // Without a message the serializer words it with the field's path and type ("could not be converted to
            // System.String"), which ProblemResponses turns into "must be a string"; GetString would name the whole request type.
            throw new JsonException();
        }
        var value = reader.GetString();
        return value is not null && value.Contains('\0') ? throw new JsonException(Reason) : value;
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    // Dictionary keys go through the string converter too.
    public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Read(ref reader, typeToConvert, options)!;

    public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WritePropertyName(value);
}
