using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text.Json;
using Gateway.Chat.Artifacts;
using Gateway.Chat.Assistants;
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
    public static IEndpointRouteBuilder MapChatApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/chat", Chat).WithTags("Chat").WithSummary("Sends a message to the model and streams its answer, charged in credits.").RequireAuthorization()
            .WithDescription("Streams the answer as Server-Sent Events (token, activity, artifact, done, error) by default; " +
                "with Accept: application/json it answers one JSON object when the turn is done.");
        return app;
    }

    public static async Task<Results<EventStreamResult, Ok<ChatAnswer>, ProblemHttpResult>> Chat(
        ChatRequest request, HttpContext http, ClaimsPrincipal user, AssistantTurns assistants, [AsParameters] TurnServices services)
    {
        var (db, turns, meter, catalog, clock, options) = services;
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
            return ChatProblems.Invalid("model", request.Model is { } id && catalog.FindEmbedding(id) is not null
                ? $"names an embedding model, which does not chat (chat models: {string.Join(", ", catalog.All.Select(m => m.Id))})"
                : $"names no model served here ({string.Join(", ", catalog.All.Select(m => m.Id))})");
        }
        var maxOutput = request.MaxTokens ?? model.MaxOutputTokens;
        if (maxOutput < 1 || maxOutput > model.MaxOutputTokens)
        {
            return ChatProblems.Invalid("maxTokens", $"must be between 1 and {model.MaxOutputTokens} for {model.Id}");
        }

        // The names are one field: given more than once, they must agree (which one would win is nobody's guess).
        if (new[] { request.SessionId, request.SeedSessionId, request.ConversationId }.OfType<Guid>().Distinct().Count() > 1)
        {
            return ChatProblems.Invalid("sessionId", "and its other names (session_id, conversationId) name different sessions; send one");
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

        // A running assistant: its instructions first, and its workspace tools (whose definitions count in the prompt).
        var assistant = await assistants.ForAsync(userId, cancellationToken);
        var prompt = await PromptAsync(db, session, request.Message, options.Value.HistoryMessages, withToolCalls: assistant is not null, cancellationToken);
        var toolTokens = assistant is null ? 0 : MeteredRounds.CountTools(meter.Tokens, assistant.Tools.All);
        var kept = 0;
        if (assistant is not null)
        {
            prompt.Insert(0, assistant.Instructions);
            kept = 1;
        }
        var promptTokens = meter.Tokens.CountPrompt(prompt) + toolTokens;
        while (promptTokens + maxOutput > model.ContextTokens && prompt.Count > kept + 1)
        {
            prompt.RemoveAt(kept); // the oldest context goes first, and a tool's result with the call it answered
            while (prompt.Count > kept + 1 && prompt[kept].Role == AI.ChatRole.Tool)
            {
                prompt.RemoveAt(kept);
            }
            promptTokens = meter.Tokens.CountPrompt(prompt) + toolTokens;
        }
        if (promptTokens + maxOutput > model.ContextTokens)
        {
            return ChatProblems.Invalid("message", $"is {promptTokens} tokens; with {maxOutput} for the answer that exceeds {model.Id}'s {model.ContextTokens}");
        }

        var files = new ArtifactScanner(session is null ? null : await FilesWrittenAsync(db, session.Id, cancellationToken));
        var turn = new MeteredTurn(model, prompt, promptTokens, maxOutput)
        {
            LimitChosenByCaller = request.MaxTokens is not null,
            Stream = !WantsJson(http.Request),
            RequestHash = IdempotencyKeys.Hash(request),
            Tools = assistant?.Tools.All,
            ToolTokens = toolTokens,
            MaxModelCalls = assistant?.MaxModelCalls ?? 1,
        };
        return await turns.RunAsync(http, turn, new ChatTurnFormat(request.Message, userId, session, receivedAt, files, assistant?.Tools, db, clock));
    }

    // A turn of a conversation: Server-Sent Events (token, activity, artifact, error, done) or one JSON answer, and
    // the session's two new messages stored with the usage.
    private sealed class ChatTurnFormat(
        string message, Guid userId, ChatSession? session, DateTimeOffset receivedAt, ArtifactScanner files, AssistantTools? tools, ChatDbContext db,
        TimeProvider clock)
        : TurnFormat<ChatAnswer, Results<EventStreamResult, Ok<ChatAnswer>, ProblemHttpResult>>
    {
        private readonly List<FileArtifact> _artifacts = [];

        public override string Kind => "chat";

        public override string Endpoint => "chat";

        public override Results<EventStreamResult, Ok<ChatAnswer>, ProblemHttpResult> Refused(Refusal refusal) => ChatProblems.From(refusal);

        public override Results<EventStreamResult, Ok<ChatAnswer>, ProblemHttpResult> Answered(ChatAnswer answer) => TypedResults.Ok(answer);

        public override Results<EventStreamResult, Ok<ChatAnswer>, ProblemHttpResult> Streamed(EventStreamResult stream) => stream;

        public override ChatAnswer Answer(SettledTurn turn)
        {
            var (call, usage) = (turn.Call, turn.Usage);
            var now = clock.GetUtcNow();
            if (session is null)
            {
                session = new ChatSession { UserId = userId, Title = ChatSession.TitleFrom(message), CreatedAt = receivedAt, UpdatedAt = now };
                db.Sessions.Add(session);
            }
            session.UpdatedAt = now;
            db.Messages.Add(new SessionMessage { SessionId = session.Id, UserId = userId, Role = Roles.User, Content = message, CreatedAt = receivedAt });
            var answer = new SessionMessage
            {
                SessionId = session.Id, UserId = userId, Role = Roles.Assistant, Content = Storable(call.Text), Model = turn.Model.Id,
                ToolCalls = call.ToolUses is { Count: > 0 } uses ? uses.Select(u => new ToolUse(u.Name, Storable(u.Arguments), Storable(u.Result))).ToList() : null,
                InputTokens = usage.InputTokens, OutputTokens = usage.OutputTokens, Credits = usage.Credits, CreatedAt = now,
            };
            db.Messages.Add(answer);
            return new ChatAnswer(session.Id, answer.Id, call.Text, new UsageSummary(usage.InputTokens, usage.OutputTokens, usage.Credits), turn.Balance,
                _artifacts, call.End != CallEnd.Completed ? "interrupted" : call.FinishReason is { Length: > 0 } reason ? reason : "stop");
        }

        public override string ChargedAfterFailure(ChatAnswer answer, Usage usage) =>
            $"The partial answer was saved to session {answer.SessionId} and {answer.Usage.Credits} credits were charged.";

        public override void Read(AnswerPiece piece)
        {
            if (piece is TextPiece text)
            {
                _artifacts.AddRange(files.Append(text.Text));
            }
            _artifacts.AddRange(tools?.TakeWritten() ?? []);
        }

        public override void OutputEnded(UpstreamCall call) => _artifacts.AddRange(files.Complete());

        public override async Task<bool> SendAsync(EventStream events, AnswerPiece piece) => piece switch
        {
            TextPiece text => await events.SendAsync("token", new { text = text.Text }) && await SendFilesAsync(events, files.Append(text.Text)),
            // A tool's result follows its work: a file it wrote is an artifact.
            ActivityPiece activity => await events.SendAsync("activity", new { type = activity.Type, name = activity.Name, detail = activity.Detail })
                && await SendFilesAsync(events, tools?.TakeWritten() ?? []),
            _ => true,
        };

        // A block closed by the answer's last line is a file, unless the caller has gone.
        public override async Task OutputEndedAsync(EventStream events, UpstreamCall call)
        {
            if (call.End != CallEnd.CallerLeft)
            {
                await SendFilesAsync(events, files.Complete());
            }
        }

        public override async Task EndAsync(EventStream events, ChatAnswer answer, Refusal? failure)
        {
            if (failure is not null)
            {
                await events.SendAsync("error", new { status = failure.Status, detail = failure.Detail });
            }
            await events.EndAsync("done", answer.Done);
        }

        public override async Task ReplayAsync(EventStream events, ChatAnswer stored)
        {
            await events.SendAsync("token", new { text = stored.Content });
            foreach (var file in stored.Artifacts ?? [])
            {
                await events.SendAsync("artifact", file);
            }
            await events.EndAsync("done", stored.Done);
        }

        private async Task<bool> SendFilesAsync(EventStream events, IReadOnlyList<FileArtifact> found)
        {
            foreach (var file in found)
            {
                _artifacts.Add(file);
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
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    private static string? Storable(string? text) => text is not null && text.Contains('\0') ? text.Replace('\0', '\uFFFD') : text;

    // The files the session's earlier answers wrote, so that writing one again is reported as an update.
    private static async Task<List<string>> FilesWrittenAsync(ChatDbContext db, Guid sessionId, CancellationToken cancellationToken)
    {
        var answers = await db.Messages.AsNoTracking()
            .Where(m => m.SessionId == sessionId && m.Role == Roles.Assistant && (m.Content.Contains("```") || m.Content.Contains("~~~")))
            .Select(m => m.Content)
            .ToListAsync(cancellationToken);
        return answers.SelectMany(ArtifactScanner.PathsIn).ToList();
    }

    // The session's latest messages, oldest first, then the new one. With tools offered, an answer's tool calls and
    // their results go before it, as the model made them; without, they are left out (a provider may refuse calls to
    // tools it is not given, and the answer's text says what they did).
    private static async Task<List<AI.ChatMessage>> PromptAsync(
        ChatDbContext db, ChatSession? session, string message, int history, bool withToolCalls, CancellationToken cancellationToken)
    {
        var prompt = new List<AI.ChatMessage>();
        if (session is not null && history > 0)
        {
            var earlier = await db.Messages.AsNoTracking()
                .Where(m => m.SessionId == session.Id)
                .OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id)
                .Take(history)
                .ToListAsync(cancellationToken);
            foreach (var m in earlier.AsEnumerable().Reverse())
            {
                for (var i = 0; withToolCalls && i < (m.ToolCalls?.Count ?? 0); i++)
                {
                    var (name, arguments, result) = m.ToolCalls![i];
                    var callId = $"call_{m.Id:N}_{i}";
                    prompt.Add(new AI.ChatMessage(AI.ChatRole.Assistant,
                        [new AI.FunctionCallContent(callId, name, arguments is null ? null : JsonSerializer.Deserialize<Dictionary<string, object?>>(arguments))]));
                    prompt.Add(new AI.ChatMessage(AI.ChatRole.Tool, [new AI.FunctionResultContent(callId, result ?? "The answer ended before the tool did.")]));
                }
                prompt.Add(new AI.ChatMessage(new AI.ChatRole(m.Role), m.Content));
            }
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
    ChatDbContext Db, MeteredTurns Turns, CreditMeter Meter, ModelCatalog Catalog, TimeProvider Clock, IOptions<ChatServiceOptions> Options);
