using Gateway.Chat.Metering;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Chat.Apis;

// The problem bodies Chat answers with, worded once (shaped by ServiceDefaults' ApiProblems).
public static class ChatProblems
{
    public static ProblemHttpResult Invalid(string field, string reason) =>
        ApiProblems.Invalid(field, $"The field '{field}' {reason}.");

    public static ProblemHttpResult NotFound(string what) =>
        ApiProblems.NotFound($"No {what} with that id.");

    public static ProblemHttpResult From(Refusal refusal) =>
        ApiProblems.Problem(refusal.Status, refusal.Title, refusal.Detail, refusal.Field);
}
