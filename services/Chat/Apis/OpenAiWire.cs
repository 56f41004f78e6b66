using System.Text.Json;
using Gateway.Chat.Metering;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Chat.Apis;

// OpenAI's wire format, shared by every /v1 endpoint: snake_case JSON, its error shape, and a body read so that a
// malformed one is a 400 naming the field.
public static class OpenAiWire
{
    public static readonly JsonSerializerOptions Json = OpenAiError.Json;

    public static async Task<(T? Request, JsonHttpResult<OpenAiError>? Error)> ReadAsync<T>(HttpRequest request) where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, Json, request.HttpContext.RequestAborted) is { } body
                ? (body, null)
                : (null, OpenAiError.Invalid("The request body must be a JSON object.", "body"));
        }
        catch (JsonException ex)
        {
            var (field, detail) = ProblemResponses.Describe(ex, typeof(T));
            return (null, OpenAiError.Invalid(detail, field));
        }
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
