using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Billing.Apis;

// The problem bodies Billing answers with, worded once (shaped by ServiceDefaults' ApiProblems).
public static class BillingProblems
{
    public static ProblemHttpResult Invalid(string field, string reason) =>
        ApiProblems.Invalid(field, $"The field '{field}' {reason}.");

    public static ProblemHttpResult Insufficient(long required, long available) =>
        ApiProblems.Problem(StatusCodes.Status402PaymentRequired, "Insufficient credits", $"Required: {required}, Available: {available}");

    public static ProblemHttpResult Conflict(string detail) =>
        ApiProblems.Problem(StatusCodes.Status409Conflict, "Conflict", detail);

    public static ProblemHttpResult Unavailable(string detail) =>
        ApiProblems.Problem(StatusCodes.Status503ServiceUnavailable, "Service unavailable", detail);
}
