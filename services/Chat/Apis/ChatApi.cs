using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text.Json;
using Gateway.Chat.Artifacts;
using Gateway.Chat.Conversations;
using Gateway.Chat.Infrastructure;
using Gateway.Chat.Metering;
using Gateway.Chat.Upstream;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using AI = Microsoft.Extensions.AI;

namespace Gateway.Chat.Apis;

// POST /api/chat: one turn of a conversation, streamed as Server-Sent Events (token, activity, artifact, done, error)
// or answered as one JSON object for Accept: application/json.
public static class ChatApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IEndpointRouteBuilder MapChatApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/chat", Chat).RequireAuthorization()
            .WithDescription("Streams the answer as Server-Sent Events (token, activity, artifact, done, error) by default; " +
                "with Accept: application/json it answers one JSON object when the turn is done.");
        return app;
    }

    public static async Task<Results<EventStreamResult, Ok<ChatAnswer>, ProblemHttpResult>> Chat(
        ChatRequest request, HttpContext http, ClaimsPrincipal user, [AsParameters] TurnServices services)
    {
        var (db, meter, keys, catalog, clock, options) = services;
        var receivedAt = clock.GetUtcNow();
        var userId = user.GetUserId();
        var cancellationToken = http.RequestAborted;

        if (string.IsNullOrWhiteSpace(request.Message))
        {
            return ChatProblems.Invalid("message", "is required");
        }
        if (request.Message.Length > options.Value.MaxMessageLength)
        {
            return ChatProblems.Invalid("message", $"is longer than {options.Value.MaxMessageLength} characters");
        }
        if (catalog.Find(request.Model) is not { } model)
        {
            return ChatProblems.Invalid("model", $"names no model served here ({string.Join(", ", catalog.All.Select(m => m.Id))})");
        }
        var maxOutput = request.MaxTokens ?? model.MaxOutputTokens;
        if (maxOutput < 1 || maxOutput > model.MaxOutputTokens)
        {
            return ChatProblems.Invalid("maxTokens", $"must be between 1 and {model.MaxOutputTokens} for {model.Id}");
        }
        string? key = http.Request.Headers[IdempotencyKeys.Header];
        if (IdempotencyKeys.Problem(key) is { } keyProblem)
        {
            return ChatProblems.Invalid(IdempotencyKeys.Header, keyProblem);
        }

        ChatSession? session = null;
        if ((request.SessionId ?? request.SeedSessionId ?? request.ConversationId) is { } sessionId)
        {
            session = await db.Sessions.SingleOrDefaultAsync(s => s.Id == sessionId && s.UserId == userId, cancellationToken);
            if (session is null)
            {
                return ChatProblems.NotFound("session");
            }
        }

        var wantsJson = WantsJson(http.Request);
        var claim = await keys.ClaimAsync(userId, key, "chat", IdempotencyKeys.Hash(request), cancellationToken);
        switch (claim)
        {
            case Replay replay:
                http.Response.Headers["Idempotent-Replayed"] = "true";
                var stored = JsonSerializer.Deserialize<ChatAnswer>(replay.Response, Json)!;
                return wantsJson ? TypedResults.Ok(stored) : new EventStreamResult(async events =>
                {
                    await events.SendAsync("token", new { text = stored.Content });
                    foreach (var file in stored.Artifacts ?? [])
                    {
                        await events.SendAsync("artifact", file);
                    }
                    await events.EndAsync("done", stored.Done);
                });
            case StillRunning:
                return ChatProblems.StillRunning();
            case KeyReused:
                return ChatProblems.KeyReused();
        }

        var prompt = await PromptAsync(db, session, request.Message, options.Value.HistoryMessages, cancellationToken);
        var promptTokens = meter.Tokens.CountPrompt(prompt);
        while (promptTokens + maxOutput > model.ContextTokens && prompt.Count > 1)
        {
            prompt.RemoveAt(0); // the oldest context goes first
            promptTokens = meter.Tokens.CountPrompt(prompt);
        }
        if (promptTokens + maxOutput > model.ContextTokens)
        {
            await keys.ReleaseAsync(claim);
            return ChatProblems.Invalid("message", $"is {promptTokens} tokens; with {maxOutput} for the answer that exceeds {model.Id}'s {model.ContextTokens}");
        }

        (var reservation, var refusal, maxOutput) = await meter.ReserveForAsync(
            userId, model, promptTokens, maxOutput, limitChosenByCaller: request.MaxTokens is not null, $"Chat: {model.Id}", cancellationToken);
        if (refusal is not null)
        {
            await keys.ReleaseAsync(claim);
            return ChatProblems.From(refusal);
        }

        var files = new ArtifactScanner(session is null ? null : await FilesWrittenAsync(db, session.Id, cancellationToken));
        var artifacts = new List<FileArtifact>();
        var call = meter.Call(model, prompt, maxOutput, cancellationToken);
        var first = await call.NextAsync();
        if (!call.ProducedOutput && call.End is CallEnd.Failed or CallEnd.CallerLeft)
        {
            await call.DisposeAsync();
            await meter.ReleaseAsync(reservation, call.FailureDetail ?? "The caller left before the model answered");
            await keys.ReleaseAsync(claim);
            return ChatProblems.From(new Refusal(call.End == CallEnd.Failed ? call.FailureStatus : 499, "Model failed", call.FailureDetail ?? "The caller left."));
        }

        // Records the turn, whatever became of the caller: the messages, the usage and the charge, together.
        async Task<ChatAnswer> SettleAsync()
        {
            await call.DisposeAsync();
            var usage = meter.Stage(reservation, "chat", model, promptTokens, call);
            var now = clock.GetUtcNow();
            if (session is null)
            {
                session = new ChatSession { UserId = userId, Title = ChatSession.TitleFrom(request.Message), CreatedAt = receivedAt, UpdatedAt = now };
                db.Sessions.Add(session);
            }
            session.UpdatedAt = now;
            db.Messages.Add(new SessionMessage { SessionId = session.Id, UserId = userId, Role = Roles.User, Content = request.Message, CreatedAt = receivedAt });
            var answer = new SessionMessage
            {
                SessionId = session.Id, UserId = userId, Role = Roles.Assistant, Content = Storable(call.Text), Model = model.Id,
                InputTokens = usage.InputTokens, OutputTokens = usage.OutputTokens, Credits = usage.Credits, CreatedAt = now,
            };
            db.Messages.Add(answer);
            var result = new ChatAnswer(session.Id, answer.Id, call.Text,
                new UsageSummary(usage.InputTokens, usage.OutputTokens, usage.Credits), CreditMeter.BalanceAfter(reservation, usage.Credits), artifacts,
                call.End != CallEnd.Completed ? "interrupted" : call.FinishReason is { Length: > 0 } reason ? reason : "stop");
            keys.Complete(claim, () => JsonSerializer.Serialize(result, Json));
            await meter.CommitAsync();
            return result;
        }

        if (wantsJson)
        {
            for (var piece = first; piece is not null; piece = await call.NextAsync())
            {
                if (piece is TextPiece text)
                {
                    artifacts.AddRange(files.Append(text.Text));
                }
            }
            artifacts.AddRange(files.Complete());
            var answer = await SettleAsync();
            return call.End == CallEnd.Failed
                ? ChatProblems.From(new Refusal(call.FailureStatus, "Model failed",
                    $"{call.FailureDetail} The partial answer was saved to session {answer.SessionId} and {answer.Usage.Credits} credits were charged."))
                : TypedResults.Ok(answer);
        }

        return new EventStreamResult(async events =>
        {
            for (var piece = first; piece is not null; piece = await call.NextAsync())
            {
                var sent = piece switch
                {
                    TextPiece text => await events.SendAsync("token", new { text = text.Text }) && await SendFilesAsync(events, files.Append(text.Text)),
                    ActivityPiece activity => await events.SendAsync("activity", new { type = activity.Type, name = activity.Name, detail = activity.Detail }),
                    _ => true,
                };
                if (!sent)
                {
                    call.CallerLeft();
                    break;
                }
            }
            if (call.End != CallEnd.CallerLeft)
            {
                await SendFilesAsync(events, files.Complete());
            }
            var answer = await SettleAsync();
            if (call.End == CallEnd.Failed)
            {
                await events.SendAsync("error", new { status = call.FailureStatus, detail = call.FailureDetail });
            }
            await events.EndAsync("done", answer.Done);
        });

        async Task<bool> SendFilesAsync(EventStream events, IReadOnlyList<FileArtifact> found)
        {
            foreach (var file in found)
            {
                artifacts.Add(file);
                if (!await events.SendAsync("artifact", file))
                {
                    return false;
                }
            }
            return true;
        }
    }

    // Postgres text cannot hold the NUL character; a caller's is refused when the body is read, but a model may
    // still produce one, and its answer must be saved with the charge.
    private static string Storable(string text) => text.Contains('\0') ? text.Replace('\0', '\uFFFD') : text;

    // The files the session's earlier answers wrote, so that writing one again is reported as an update.
    private static async Task<List<string>> FilesWrittenAsync(ChatDbContext db, Guid sessionId, CancellationToken cancellationToken)
    {
        var answers = await db.Messages.AsNoTracking()
            .Where(m => m.SessionId == sessionId && m.Role == Roles.Assistant && (m.Content.Contains("```") || m.Content.Contains("~~~")))
            .Select(m => m.Content)
            .ToListAsync(cancellationToken);
        return answers.SelectMany(ArtifactScanner.PathsIn).ToList();
    }

    // The session's latest messages, oldest first, then the new one.
    private static async Task<List<AI.ChatMessage>> PromptAsync(ChatDbContext db, ChatSession? session, string message, int history, CancellationToken cancellationToken)
    {
        var prompt = new List<AI.ChatMessage>();
        if (session is not null && history > 0)
        {
            var earlier = await db.Messages.AsNoTracking()
                .Where(m => m.SessionId == session.Id)
                .OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id)
                .Take(history)
                .ToListAsync(cancellationToken);
            prompt.AddRange(earlier.AsEnumerable().Reverse().Select(m => new AI.ChatMessage(new AI.ChatRole(m.Role), m.Content)));
        }
        prompt.Add(new AI.ChatMessage(AI.ChatRole.User, message));
        return prompt;
    }

    private static bool WantsJson(HttpRequest request)
    {
        var accept = request.Headers.Accept.ToString();
        return accept.Contains("application/json", StringComparison.OrdinalIgnoreCase)
            && !accept.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase);
    }
}

// The session to continue goes by the names the seeds' dashboards send: sessionId, session_id (seed 000) or conversationId.
public sealed record ChatRequest(
    [property: Required] string? Message, Guid? SessionId, string? Model, int? MaxTokens, Guid? ConversationId,
    [property: System.Text.Json.Serialization.JsonPropertyName("session_id")] Guid? SeedSessionId = null);

public sealed record UsageSummary(long InputTokens, long OutputTokens, long Credits);

// Artifacts: the files the answer wrote (null in answers stored before artifacts were reported).
// FinishReason: "stop", "length" (cut at the output limit, which may be what the caller could afford),
// "interrupted" (the model failed or the caller left midway); null in answers stored before it was reported.
public sealed record ChatAnswer(Guid SessionId, Guid MessageId, string Content, UsageSummary Usage, long Balance, IReadOnlyList<FileArtifact>? Artifacts, string? FinishReason = null)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public ChatDone Done => new(SessionId, MessageId, Usage, Balance, FinishReason);
}

public sealed record ChatDone(Guid SessionId, Guid MessageId, UsageSummary Usage, long Balance, string? FinishReason);

public sealed record TurnServices(
    ChatDbContext Db, CreditMeter Meter, IdempotencyKeys Keys, ModelCatalog Catalog, TimeProvider Clock, IOptions<ChatServiceOptions> Options, MeteredTurns Turns)
{
    public void Deconstruct(out ChatDbContext db, out CreditMeter meter, out IdempotencyKeys keys, out ModelCatalog catalog, out TimeProvider clock, out IOptions<ChatServiceOptions> options) =>
        (db, meter, keys, catalog, clock, options) = (Db, Meter, Keys, Catalog, Clock, Options);
}
