using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Billing.Apis;

// The problem bodies Billing answers with, worded once.
public static class BillingProblems
{
    public static ProblemHttpResult Invalid(string field, string reason) =>
        TypedResults.Problem(
            title: "Invalid request",
            detail: $"The field '{field}' {reason}.",
            statusCode: StatusCodes.Status400BadRequest,
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = [$"The field '{field}' {reason}."] } });

    public static ProblemHttpResult Insufficient(long required, long available) =>
        TypedResults.Problem(title: "Insufficient credits", detail: $"Required: {required}, Available: {available}", statusCode: StatusCodes.Status402PaymentRequired);

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(title: "Conflict", detail: detail, statusCode: StatusCodes.Status409Conflict);

    public static ProblemHttpResult Unavailable(string detail) =>
        TypedResults.Problem(title: "Service unavailable", detail: detail, statusCode: StatusCodes.Status503ServiceUnavailable);
}
