using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace Gateway.ServiceDefaults;

// The OpenAI-compatible API (/v1/*) is called by OpenAI SDKs, which read errors in OpenAI's shape:
// {"error":{"message","type","param","code"}}. Every problem answered there, by the edge (refused key, rate limit,
// body too large, authentication unavailable, a fault) or by Chat's framework (no such route, wrong method, a
// body of the wrong kind), is written so; other routes keep RFC 7807 problems. The status code and headers
// (WWW-Authenticate, Retry-After, RateLimit-*) stay. Registered ahead of the default writer where /v1 is served.
public sealed class OpenAiErrorWriter(IOptions<ProblemDetailsOptions> options) : IProblemDetailsWriter
{
    public const string PathPrefix = "/v1";

    public static bool Applies(HttpRequest request) => request.Path.StartsWithSegments(PathPrefix);

    public bool CanWrite(ProblemDetailsContext context) => Applies(context.HttpContext.Request);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        // The words every problem gets (ProblemResponses), as the default writer applies them.
        options.Value.CustomizeProblemDetails?.Invoke(context);
        var response = context.HttpContext.Response;
        var status = context.ProblemDetails.Status ?? response.StatusCode;
        var message = context.ProblemDetails.Detail ?? context.ProblemDetails.Title ?? ReasonPhrases.GetReasonPhrase(status);
        var (type, code) = Classify(status);
        // A field at fault (a validation problem's "errors") is OpenAI's "param".
        var param = context.ProblemDetails.Extensions.TryGetValue("errors", out var errors) && errors is IDictionary<string, string[]> named
            ? named.Keys.FirstOrDefault()
            : null;
        return new ValueTask(response.WriteAsJsonAsync(new OpenAiError(new OpenAiErrorDetail(message, type, param, code)), OpenAiError.Json));
    }

    // OpenAI's own types and codes where it has one for the case.
    private static (string Type, string? Code) Classify(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => ("invalid_request_error", "invalid_api_key"),
        StatusCodes.Status403Forbidden => ("invalid_request_error", "permission_denied"),
        StatusCodes.Status404NotFound => ("invalid_request_error", "not_found"),
        StatusCodes.Status413PayloadTooLarge => ("invalid_request_error", "request_too_large"),
        StatusCodes.Status429TooManyRequests => ("requests", "rate_limit_exceeded"),
        StatusCodes.Status503ServiceUnavailable => ("service_unavailable", "service_unavailable"),
        < 500 => ("invalid_request_error", null),
        _ => ("server_error", null),
    };
}

// OpenAI's error body, the one copy: written by this writer (the edge's refusals, the framework's) and by Chat's /v1 handlers.
public sealed record OpenAiError(OpenAiErrorDetail Error)
{
    // OpenAI's JSON: snake_case names, nulls written out; a member sent twice is refused, as on every other route
    // (Extensions.AddServiceDefaults), not read as its last value.
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        AllowDuplicateProperties = false,
    };

    public static JsonHttpResult<OpenAiError> Of(int status, string message, string type, string? param, string? code) =>
        TypedResults.Json(new OpenAiError(new OpenAiErrorDetail(message, type, param, code)), Json, statusCode: status);

    public static JsonHttpResult<OpenAiError> Invalid(string message, string? param) => Of(400, message, "invalid_request_error", param, null);

    // The id as sent, cut to a readable length (an id of thousands of characters is not echoed back whole).
    public static JsonHttpResult<OpenAiError> ModelNotFound(string? model) =>
        Of(404, $"The model '{(model is null ? null : OneLineText.Shorten(model, 101))}' does not exist or you do not have access to it.",
            "invalid_request_error", "model", "model_not_found");
}

public sealed record OpenAiErrorDetail(string Message, string Type, string? Param, string? Code);
