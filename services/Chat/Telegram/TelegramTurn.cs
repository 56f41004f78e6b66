using System.Security.Claims;
using Gateway.Chat.Apis;
using Gateway.Chat.Assistants;
using Gateway.Chat.Metering;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Chat.Telegram;

// What a turn from Telegram came to: the answer's text, or why there is none (402 short of credits, 404 no such
// session, a model failure…, as POST /api/chat would have answered).
public sealed record TelegramTurnResult(string? Answer, Refusal? Refusal);

// The one place a message from a linked Telegram chat becomes a turn of its user: exactly what POST /api/chat with
// Accept: application/json runs (ChatApi.Chat: its checks, the session's history, the hold, the charge, both messages
// stored), as that user, in the link's session — so when the user's assistant is running, it answers, with its
// instructions and its tools in the user's workspace (services/Chat/Assistants), as it does on the dashboard.
public sealed class TelegramTurn(IServiceScopeFactory scopes, CallerTokenIssuer callers)
{
    public async Task<TelegramTurnResult> RunAsync(Guid userId, Guid sessionId, string message, string idempotencyKey, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        // The request the edge would have forwarded for this user: their caller token (Chat reads their own provider
        // keys with it), a JSON answer, and an Idempotency-Key so that a retried update is answered again, not charged again.
        var http = new DefaultHttpContext { RequestServices = scope.ServiceProvider, RequestAborted = cancellationToken };
        http.User = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(CallerClaims.UserId, userId.ToString()), new Claim(CallerClaims.Method, CallerMethods.User)], CallerAuthentication.Scheme));
        http.Request.Headers.Accept = "application/json";
        http.Request.Headers[CallerAuthentication.HeaderName] = callers.Issue(new Caller(userId, null, null, null, CallerMethods.User));
        http.Request.Headers[IdempotencyKeys.Header] = idempotencyKey;

        var services = ActivatorUtilities.CreateInstance<TurnServices>(scope.ServiceProvider);
        var assistants = scope.ServiceProvider.GetRequiredService<AssistantTurns>();
        var result = await ChatApi.Chat(new ChatRequest(message, sessionId, null, null, null), http, http.User, assistants, services);
        return result.Result switch
        {
            Ok<ChatAnswer> ok => new TelegramTurnResult(ok.Value!.Content, null),
            ProblemHttpResult problem => new TelegramTurnResult(null, new Refusal(
                problem.StatusCode, problem.ProblemDetails.Title ?? "Refused", problem.ProblemDetails.Detail ?? "")),
            var other => throw new InvalidOperationException($"A JSON chat turn answered {other.GetType().Name}."),
        };
    }
}
