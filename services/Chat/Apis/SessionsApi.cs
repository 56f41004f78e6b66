using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Gateway.Chat.Conversations;
using Gateway.Chat.Infrastructure;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gateway.Chat.Apis;

// A user's sessions and their messages. Another user's session does not exist (404).
public static class SessionsApi
{

    public static IEndpointRouteBuilder MapSessionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/chat").WithTags("Chat").RequireAuthorization();

        api.MapGet("/sessions", ListSessions).WithSummary("Lists your chat sessions, most recently updated first.");
        api.MapPost("/sessions", CreateSession).WithSummary("Starts a new chat session.");
        api.MapGet("/sessions/{id}", GetSession).WithSummary("Reads one of your chat sessions.");
        api.MapPatch("/sessions/{id}", RenameSession).WithSummary("Renames one of your chat sessions.");
        api.MapDelete("/sessions/{id}", DeleteSession).WithSummary("Deletes one of your chat sessions and its messages.");
        api.MapGet("/sessions/{id}/messages", ListMessages).WithSummary("Lists a session's messages, oldest first.");
        api.MapPost("/messages", AddMessage).WithSummary("Stores a message in a session without calling the model (not charged).");
        return app;
    }

    public static async Task<Results<Ok<Page<SessionView>>, ProblemHttpResult>> ListSessions(
        ClaimsPrincipal user, ChatDbContext db, int? limit, int? offset, CancellationToken cancellationToken)
    {
        if (PageRequest.Check(limit, offset, out var page) is { } problem)
        {
            return problem;
        }
        var userId = user.GetUserId();
        var sessions = db.Sessions.AsNoTracking().Where(s => s.UserId == userId);
        var data = await sessions.OrderByDescending(s => s.UpdatedAt).ThenByDescending(s => s.Id)
            .Skip(page.Offset).Take(page.Limit)
            .Select(s => new SessionView(s.Id, s.Title, s.CreatedAt, s.UpdatedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(page.Of(data, await sessions.CountAsync(cancellationToken)));
    }

    public static async Task<Results<Created<SessionView>, ProblemHttpResult>> CreateSession(
        NewSession? request, ClaimsPrincipal user, ChatDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var title = request?.Title?.Trim();
        if (title is not null && TitleProblem(title) is { } problem)
        {
            return problem;
        }
        var now = clock.GetUtcNow();
        var session = new ChatSession { UserId = user.GetUserId(), Title = string.IsNullOrEmpty(title) ? "New chat" : title, CreatedAt = now, UpdatedAt = now };
        db.Sessions.Add(session);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/chat/sessions/{session.Id}", View(session));
    }

    // A title of its own (the first message's words, or "New chat", until then). Not an update of the conversation: the
    // session keeps its place in the list.
    public static async Task<Results<Ok<SessionView>, ProblemHttpResult>> RenameSession(
        string id, RenamedSession request, ClaimsPrincipal user, ChatDbContext db, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var sessionId))
        {
            return ChatProblems.Invalid("id", "is not a session id");
        }
        var title = request.Title?.Trim();
        if (title is null || OneLineText.IsBlank(title))
        {
            return ChatProblems.Invalid("title", "is required");
        }
        if (TitleProblem(title) is { } problem)
        {
            return problem;
        }
        var userId = user.GetUserId();
        var session = await db.Sessions.SingleOrDefaultAsync(s => s.Id == sessionId && s.UserId == userId, cancellationToken);
        if (session is null)
        {
            return ChatProblems.NotFound("session");
        }
        session.Title = title;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(View(session));
    }

    private static ProblemHttpResult? TitleProblem(string title) =>
        title.Length > ChatSession.MaxTitleLength ? ChatProblems.Invalid("title", $"is longer than {ChatSession.MaxTitleLength} characters")
        : OneLineText.HasBreaking(title) ? ChatProblems.Invalid("title", "cannot contain control characters (a line break, a tab)")
        : null;

    public static async Task<Results<Ok<SessionView>, ProblemHttpResult>> GetSession(
        string id, ClaimsPrincipal user, ChatDbContext db, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var sessionId))
        {
            return ChatProblems.Invalid("id", "is not a session id");
        }
        var userId = user.GetUserId();
        var session = await db.Sessions.AsNoTracking().SingleOrDefaultAsync(s => s.Id == sessionId && s.UserId == userId, cancellationToken);
        return session is null ? ChatProblems.NotFound("session") : TypedResults.Ok(View(session));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteSession(
        string id, ClaimsPrincipal user, ChatDbContext db, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var sessionId))
        {
            return ChatProblems.Invalid("id", "is not a session id");
        }
        var userId = user.GetUserId();
        var deleted = await db.Sessions.Where(s => s.Id == sessionId && s.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        return deleted == 0 ? ChatProblems.NotFound("session") : TypedResults.NoContent();
    }

    // Oldest first, so pages read like the conversation.
    public static async Task<Results<Ok<Page<MessageView>>, ProblemHttpResult>> ListMessages(
        string id, ClaimsPrincipal user, ChatDbContext db, int? limit, int? offset, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var sessionId))
        {
            return ChatProblems.Invalid("id", "is not a session id");
        }
        if (PageRequest.Check(limit, offset, out var page) is { } problem)
        {
            return problem;
        }
        var userId = user.GetUserId();
        if (!await db.Sessions.AnyAsync(s => s.Id == sessionId && s.UserId == userId, cancellationToken))
        {
            return ChatProblems.NotFound("session");
        }
        var messages = db.Messages.AsNoTracking().Where(m => m.SessionId == sessionId);
        var data = await messages.OrderBy(m => m.CreatedAt).ThenBy(m => m.Id)
            .Skip(page.Offset).Take(page.Limit)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(page.Of(data.Select(View).ToList(), await messages.CountAsync(cancellationToken)));
    }

    // Stores a message without calling the model (a dashboard keeping its own transcript); not charged.
    public static async Task<Results<Created<MessageView>, ProblemHttpResult>> AddMessage(
        NewMessage request, ClaimsPrincipal user, ChatDbContext db, TimeProvider clock, IOptions<Upstream.ChatServiceOptions> options, CancellationToken cancellationToken)
    {
        if (request.SessionId is not { } sessionId)
        {
            return ChatProblems.Invalid("sessionId", "is required");
        }
        if (request.Role is not (Roles.User or Roles.Assistant))
        {
            return ChatProblems.Invalid("role", "must be \"user\" or \"assistant\"");
        }
        if (string.IsNullOrWhiteSpace(request.Content))
        {
            return ChatProblems.Invalid("content", "is required");
        }
        if (request.Content.Length > options.Value.MaxMessageLength)
        {
            return ChatProblems.Invalid("content", $"is longer than {options.Value.MaxMessageLength} characters");
        }
        var userId = user.GetUserId();
        var session = await db.Sessions.SingleOrDefaultAsync(s => s.Id == sessionId && s.UserId == userId, cancellationToken);
        if (session is null)
        {
            return ChatProblems.NotFound("session");
        }
        var now = clock.GetUtcNow();
        var message = new SessionMessage { SessionId = sessionId, UserId = userId, Role = request.Role, Content = request.Content, CreatedAt = now };
        session.UpdatedAt = now;
        db.Messages.Add(message);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/chat/sessions/{sessionId}/messages", View(message));
    }

    private static SessionView View(ChatSession s) => new(s.Id, s.Title, s.CreatedAt, s.UpdatedAt);

    private static MessageView View(SessionMessage m) => new(m.Id, m.SessionId, m.Role, m.Content, m.Model,
        m.Credits is { } credits ? new UsageSummary(m.InputTokens ?? 0, m.OutputTokens ?? 0, credits) : null, m.CreatedAt, m.ToolCalls);
}

public sealed record NewSession(string? Title);

[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)] // a misspelt member would change nothing
public sealed record RenamedSession([property: Required] string? Title);

public sealed record SessionView(Guid Id, string Title, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record NewMessage([property: Required] Guid? SessionId, [property: Required] string? Role, [property: Required] string? Content);

// ToolCalls: the tools an answer called on the way, in order (null when none).
public sealed record MessageView(Guid Id, Guid SessionId, string Role, string Content, string? Model, UsageSummary? Usage, DateTimeOffset CreatedAt,
    IReadOnlyList<Upstream.ToolUse>? ToolCalls = null);
