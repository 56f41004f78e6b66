using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.ServiceDefaults;

// The problem responses every API shares: each names the field at fault and says why in a sentence.
public static class ApiProblems
{
    // Every 400 of every service has this one shape: title "Invalid request", the first reason as the detail, and
    // each field at fault with its reasons under "errors" (as a framework-made validation problem has them too).
    public const string InvalidTitle = "Invalid request";

    public static ProblemHttpResult Invalid(string field, string reason) =>
        Problem(StatusCodes.Status400BadRequest, InvalidTitle, reason, field);

    public static ProblemHttpResult Invalid(IDictionary<string, string[]> errors) =>
        TypedResults.Problem(
            detail: errors.First().Value.First(),
            statusCode: StatusCodes.Status400BadRequest,
            title: InvalidTitle,
            extensions: new Dictionary<string, object?> { ["errors"] = errors });

    public static ProblemHttpResult Conflict(string field, string reason) =>
        Problem(StatusCodes.Status409Conflict, "Conflict", reason, field);

    public static ProblemHttpResult Unauthorized(string reason) =>
        Problem(StatusCodes.Status401Unauthorized, "Unauthorized", reason);

    public static ProblemHttpResult Forbidden(string reason) =>
        Problem(StatusCodes.Status403Forbidden, "Forbidden", reason);

    // Also the title of a 404 no route answers (ProblemResponses), so that one 404 reads like another.
    public const string NotFoundTitle = "Not found";

    public static ProblemHttpResult NotFound(string reason) =>
        Problem(StatusCodes.Status404NotFound, NotFoundTitle, reason);

    // ASP.NET Core links the common statuses to their RFC sections when it writes a problem; these ones we
    // answer too. Set here as well, because a problem answered to an SSE request is written without it.
    public static string? TypeFor(int? status) => status switch
    {
        StatusCodes.Status402PaymentRequired => "https://tools.ietf.org/html/rfc9110#section-15.5.3",
        StatusCodes.Status413PayloadTooLarge => "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        StatusCodes.Status423Locked => "https://tools.ietf.org/html/rfc4918#section-11.3",
        StatusCodes.Status429TooManyRequests => "https://tools.ietf.org/html/rfc6585#section-4",
        _ => null,
    };

    public static ProblemHttpResult Problem(int status, string title, string reason, string? field = null) =>
        TypedResults.Problem(
            detail: reason,
            statusCode: status,
            title: title,
            type: TypeFor(status),
            extensions: field is null ? null : new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = [reason] } });
}
