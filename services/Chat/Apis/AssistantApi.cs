using System.Security.Claims;
using Gateway.Chat.Assistants;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Chat.Apis;

// The caller's own assistant (seed 002): its status, start and stop. Both are idempotent; a start answers as soon as
// the assistant is starting (202), and `running` follows on GET and on the live socket (assistant_status).
public static class AssistantApi
{
    public static IEndpointRouteBuilder MapAssistantApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/assistant").WithTags("Assistant").RequireAuthorization();
        api.MapGet("/", Get).WithSummary("Your assistant's status.");
        api.MapPost("/start", Start).WithSummary("Starts your assistant (202 while it is starting).");
        api.MapPost("/stop", Stop).WithSummary("Stops your assistant.");
        return app;
    }

    // Reason: why it failed, was stopped (idle) or is restarting; null otherwise.
    public sealed record AssistantResponse(string Status, string? Reason, DateTimeOffset? ChangedAt, DateTimeOffset? StartedAt)
    {
        public static AssistantResponse From(Assistant? assistant) => assistant is null
            ? new(AssistantStatus.Stopped, null, null, null)
            : new(assistant.Status, assistant.Reason, assistant.ChangedAt, assistant.IsUp ? assistant.StartedAt : null);
    }

    public static async Task<Ok<AssistantResponse>> Get(ClaimsPrincipal user, AssistantLifecycle lifecycle, CancellationToken cancellationToken) =>
        TypedResults.Ok(AssistantResponse.From(await lifecycle.FindAsync(user.GetUserId(), cancellationToken)));

    public static async Task<Results<Ok<AssistantResponse>, Accepted<AssistantResponse>, ProblemHttpResult>> Start(
        HttpContext http, ClaimsPrincipal user, AssistantLifecycle lifecycle, OwnerSettings owners, AssistantSupervisor supervisor,
        CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        if (await lifecycle.FindAsync(userId, cancellationToken) is { Status: AssistantStatus.Running } running)
        {
            return TypedResults.Ok(AssistantResponse.From(running));
        }
        if (await owners.ForCallerAsync(http.Request, cancellationToken) is not { } settings)
        {
            return TypedResults.Problem(title: "Identity unavailable", statusCode: StatusCodes.Status503ServiceUnavailable,
                detail: "Your assistant's settings could not be read just now, so it was not started. Try again shortly.");
        }
        var assistant = await lifecycle.StartAsync(userId, settings, cancellationToken);
        if (assistant?.Status == AssistantStatus.Starting)
        {
            supervisor.Watch(userId);
        }
        return assistant switch
        {
            null => TypedResults.Problem(title: "Conflict", statusCode: StatusCodes.Status409Conflict,
                detail: "Your assistant is stopping; start it again once it has stopped."),
            { Status: AssistantStatus.Running } started => TypedResults.Ok(AssistantResponse.From(started)),
            { Status: AssistantStatus.Failed } failed => TypedResults.Problem(title: "Assistant not started", statusCode: StatusCodes.Status503ServiceUnavailable,
                detail: $"Your assistant could not be started: {failed.Reason}"),
            var started => TypedResults.Accepted("/api/assistant", AssistantResponse.From(started)),
        };
    }

    public static async Task<Ok<AssistantResponse>> Stop(ClaimsPrincipal user, AssistantLifecycle lifecycle, CancellationToken cancellationToken) =>
        TypedResults.Ok(AssistantResponse.From(await lifecycle.StopAsync(user.GetUserId(), null, cancellationToken)));
}
