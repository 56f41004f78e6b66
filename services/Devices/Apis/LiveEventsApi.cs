using System.Security.Claims;
using Gateway.Devices.LiveEvents;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Gateway.Devices.Apis;

// The live channel: a WebSocket that pushes the caller's organisation's events as JSON
// {id, type, data, at}. A client that reconnects with ?lastEventId= (or Last-Event-ID) gets what it
// missed within the replay window, or a "resync" event when that is no longer possible.
public static class LiveEventsApi
{
    public static IEndpointRouteBuilder MapLiveEventsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/events", ConnectAsync).WithTags("Live events").WithSummary("Opens a WebSocket of your organisation's live events.").RequireAuthorization(CallerPolicies.Member)
            .WithDescription("A WebSocket (Upgrade: websocket; answers 101), not a JSON endpoint. Authenticate with an access token as " +
                "Authorization: Bearer or, from a browser, ?access_token=. Messages are JSON {id, type, data, at}; resume with " +
                "?lastEventId= (or Last-Event-ID) to get what was missed, or a \"resync\" message when that is no longer kept.");
        return app;
    }

    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> ConnectAsync(
        HttpContext context, ClaimsPrincipal user, LiveEventStream stream, LiveEventHub hub, IOptions<LiveEventOptions> options, string? lastEventId)
    {
        var cursor = lastEventId ?? context.Request.Headers["Last-Event-ID"].ToString();
        long? resumeAfter = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            if (!long.TryParse(cursor, out var parsed) || parsed < 0)
            {
                return ApiProblems.Invalid("lastEventId", "The last event id must be the whole number of the last event received.");
            }
            resumeAfter = parsed;
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            return ApiProblems.Invalid("upgrade", "This endpoint speaks WebSocket only: connect with a WebSocket client (Upgrade: websocket).");
        }
        if (hub.CountOf(user.GetUserId()) >= options.Value.MaxSocketsPerUser)
        {
            context.Response.Headers.RetryAfter = "5";
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many live sockets",
                detail: $"You have {options.Value.MaxSocketsPerUser} live sockets open already, the most one person may; close one (each browser tab holds one) and connect again.");
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = options.Value.KeepAliveInterval });
        await stream.RunAsync(socket, user.GetUserId(), user.Organization(), user.GetSessionId(), resumeAfter, context.RequestAborted);
        return TypedResults.Empty;
    }
}
