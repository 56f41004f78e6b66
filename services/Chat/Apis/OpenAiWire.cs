using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Chat.Metering;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Chat.Apis;

// OpenAI's wire format, shared by every /v1 endpoint: snake_case JSON, its error shape, and a body read so that a
// malformed one is a 400 naming the field.
public static class OpenAiWire
{
    public static readonly JsonSerializerOptions Json = OpenAiError.Json;

    // Bodies are read strictly, as OpenAI reads them: a number sent as a string ("max_tokens": "10") is refused, a NUL in
    // text is refused as on every other route, and a number beyond its type's range ("temperature": 1e309, which the
    // reader takes as infinity) is refused rather than failing later, where it cannot be written as JSON.
    private static readonly JsonSerializerOptions Reading = new(Json)
    {
        NumberHandling = JsonNumberHandling.Strict,
        Converters = { new StringWithoutNulConverter(), new FiniteSingle(), new FiniteDouble() },
    };

    public static async Task<(T? Request, JsonHttpResult<OpenAiError>? Error)> ReadAsync<T>(HttpRequest request) where T : class
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
        var json = body.GetBuffer().AsMemory(0, (int)body.Length);
        try
        {
            if (JsonSerializer.Deserialize<T>(json.Span, Reading) is not { } read)
            {
                return (null, OpenAiError.Invalid("The request body must be a JSON object.", "body"));
            }
            // Parts of these requests stay JSON (content, input, stop) and are read as text later, where an escape that is
            // not text would fail; only an escape can make one (a raw NUL or surrogate is not valid JSON at all).
            if (json.Span.Contains((byte)'\\') && UnreadableText(json) is { } unreadable)
            {
                return (null, OpenAiError.Invalid(unreadable.Detail, unreadable.Field));
            }
            return (read, null);
        }
        catch (JsonException ex)
        {
            var (field, detail) = ProblemResponses.Describe(ex, typeof(T));
            return (null, OpenAiError.Invalid(detail, field));
        }
    }

    // The first string or member name, in document order, that holds NUL or half of a surrogate pair alone, with its path.
    private static (string Field, string Detail)? UnreadableText(ReadOnlyMemory<byte> json)
    {
        using var document = JsonDocument.Parse(json);
        return Find(document.RootElement, "");

        static (string Field, string Detail)? Find(JsonElement element, string path)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    return Unreadable(element, path);
                case JsonValueKind.Array:
                    var index = 0;
                    foreach (var item in element.EnumerateArray())
                    {
                        if (Find(item, $"{path}[{index++}]") is { } found) return found;
                    }
                    return null;
                case JsonValueKind.Object:
                    foreach (var member in element.EnumerateObject())
                    {
                        string name;
                        try
                        {
                            name = member.Name;
                        }
                        catch (InvalidOperationException)
                        {
                            return (path.Length == 0 ? "body" : path, "A member's name must be valid Unicode text: one has half of a surrogate pair (such as \\ud800) alone.");
                        }
                        var at = path.Length == 0 ? name : $"{path}.{name}";
                        if (Find(member.Value, at) is { } found) return found;
                    }
                    return null;
                default:
                    return null;
            }
        }

        // Read as the handlers read it later (GetString), which is where half a surrogate pair failed.
        static (string Field, string Detail)? Unreadable(JsonElement text, string path)
        {
            try
            {
                return text.GetString()!.Contains('\0') ? (path, $"The field '{path}' is not valid: {StringWithoutNulConverter.Reason}") : null;
            }
            catch (InvalidOperationException)
            {
                return (path, $"The field '{path}' must be valid Unicode text: it has half of a surrogate pair (such as \\ud800) alone.");
            }
        }
    }

    // A float or double the reader overflowed to infinity is out of range, as an integer past its range is. Only read.
    private sealed class FiniteSingle : JsonConverter<float>
    {
        public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetSingle() is var value && float.IsFinite(value) ? value : throw new JsonException();

        public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
    }

    private sealed class FiniteDouble : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetDouble() is var value && double.IsFinite(value) ? value : throw new JsonException();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
    }
}

// Chat's refusals in OpenAI's error shape (the records are ServiceDefaults', shared with the edge).
public static class OpenAiRefusals
{
    extension(OpenAiError)
    {
        public static JsonHttpResult<OpenAiError> From(Refusal refusal)
        {
            var body = OpenAiError.Body(refusal).Error;
            return OpenAiError.Of(refusal.Status, body.Message, body.Type, null, body.Code);
        }

        public static OpenAiError Body(Refusal refusal) => new(refusal.Status switch
        {
            400 => new OpenAiErrorDetail(refusal.Detail, "invalid_request_error", null, null),
            402 => new OpenAiErrorDetail(refusal.Detail, "insufficient_quota", null, "insufficient_quota"),
            503 => new OpenAiErrorDetail(refusal.Detail, "service_unavailable", null, "billing_unavailable"),
            504 => new OpenAiErrorDetail(refusal.Detail, "server_error", null, "upstream_timeout"),
            _ => new OpenAiErrorDetail(refusal.Detail, "server_error", null, "upstream_error"),
        });
    }
}
