using Gateway.Chat.Metering;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Chat.Apis;

// The problem bodies Chat answers with, worded once.
public static class ChatProblems
{
    public static ProblemHttpResult Invalid(string field, string reason) =>
        TypedResults.Problem(
            title: "Invalid request",
            detail: $"The field '{field}' {reason}.",
            statusCode: StatusCodes.Status400BadRequest,
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = [$"The field '{field}' {reason}."] } });

    public static ProblemHttpResult NotFound(string what) =>
        TypedResults.Problem(title: "Not found", detail: $"No {what} with that id.", statusCode: StatusCodes.Status404NotFound);

    public static ProblemHttpResult From(Refusal refusal) =>
        TypedResults.Problem(title: refusal.Title, detail: refusal.Detail, statusCode: refusal.Status);

    public static ProblemHttpResult StillRunning() =>
        TypedResults.Problem(title: "Conflict", statusCode: StatusCodes.Status409Conflict,
            detail: "A request with this Idempotency-Key is still running; retry when it has finished.");

    public static ProblemHttpResult KeyReused() =>
        TypedResults.Problem(title: "Idempotency-Key reused", statusCode: StatusCodes.Status422UnprocessableEntity,
            detail: "This Idempotency-Key was used for a different request; use a new key for a new request.");
}
