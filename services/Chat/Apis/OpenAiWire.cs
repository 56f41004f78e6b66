using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Chat.Metering;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Chat.Apis;

// OpenAI's wire format, shared by every /v1 endpoint: snake_case JSON, its error shape, and a body read so that a
// malformed one is a 400 naming the field.
public static class OpenAiWire
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static async Task<(T? Request, JsonHttpResult<OpenAiError>? Error)> ReadAsync<T>(HttpRequest request) where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, Json, request.HttpContext.RequestAborted) is { } body
                ? (body, null)
                : (null, OpenAiError.Invalid("The body must be a JSON object.", null));
        }
        catch (JsonException ex)
        {
            var field = ex.Path?.TrimStart('$', '.');
            return (null, string.IsNullOrEmpty(field) ? OpenAiError.Invalid("The body is not valid JSON.", null) : OpenAiError.Invalid($"'{field}' is not valid.", field));
        }
    }
}

public sealed record OpenAiError(OpenAiErrorDetail Error)
{
    public static JsonHttpResult<OpenAiError> Of(int status, string message, string type, string? param, string? code) =>
        TypedResults.Json(new OpenAiError(new OpenAiErrorDetail(message, type, param, code)), OpenAiWire.Json, statusCode: status);

    public static JsonHttpResult<OpenAiError> Invalid(string message, string? param) => Of(400, message, "invalid_request_error", param, null);

    public static JsonHttpResult<OpenAiError> ModelNotFound(string? model) =>
        Of(404, $"The model '{model}' does not exist or you do not have access to it.", "invalid_request_error", "model", "model_not_found");

    public static JsonHttpResult<OpenAiError> From(Refusal refusal)
    {
        var body = Body(refusal).Error;
        return Of(refusal.Status, body.Message, body.Type, null, body.Code);
    }

    public static OpenAiError Body(Refusal refusal) => new(refusal.Status switch
    {
        402 => new OpenAiErrorDetail(refusal.Detail, "insufficient_quota", null, "insufficient_quota"),
        503 => new OpenAiErrorDetail(refusal.Detail, "service_unavailable", null, "billing_unavailable"),
        504 => new OpenAiErrorDetail(refusal.Detail, "server_error", null, "upstream_timeout"),
        _ => new OpenAiErrorDetail(refusal.Detail, "server_error", null, "upstream_error"),
    });
}

public sealed record OpenAiErrorDetail(string Message, string Type, string? Param, string? Code);
