using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Gateway.Devices.CustomerSessions;
using Gateway.Devices.Fleet;
using Gateway.Devices.Infrastructure;
using Gateway.ServiceDefaults;
using Gateway.ServiceDefaults.Outbox;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Gateway.Devices.Apis;

// Customer sessions (seed 001): devices hand them in with their credential; the organisation's people
// read them, and an owner or admin approves or rejects each one once.
public static class CustomerSessionsApi
{
    private const int PendingShownInAlerts = 10;
    private const int RecentActivityShown = 20;
    private static readonly TimeSpan RecentActivityWindow = TimeSpan.FromDays(7);

    public static IEndpointRouteBuilder MapCustomerSessionsApi(this IEndpointRouteBuilder app)
    {
        var sessions = app.MapGroup("/api/customer-sessions").WithTags("Customer sessions");
        sessions.MapPost("/", SubmitSession).WithSummary("A device hands in a customer session.").AllowAnonymous().WithMetadata(new CalledByDevices());
        sessions.MapGet("/", ListSessions).WithSummary("Lists your organisation's customer sessions.").RequireAuthorization(CallerPolicies.Member);
        sessions.MapGet("/alerts", GetAlerts).WithSummary("The customer sessions waiting for a decision, and recent decisions.").RequireAuthorization(CallerPolicies.Member);
        sessions.MapGet("/{id}", GetSession).WithSummary("Reads one customer session.").RequireAuthorization(CallerPolicies.Member);
        sessions.MapPost("/{id}/approve", ApproveSession).WithSummary("Approves a customer session (owners and admins).").RequireAuthorization(CallerPolicies.Manager);
        sessions.MapPost("/{id}/reject", RejectSession).WithSummary("Rejects a customer session (owners and admins).").RequireAuthorization(CallerPolicies.Manager);
        return app;
    }

    public sealed record SubmitSessionRequest(
        Guid? SubmissionId, string? CustomerName, string? Summary, [property: Required] List<TranscriptTurn?>? Transcript, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt);

    // The decision's note, sent as "note" or "reason" (either word, for either decision); both present, they must agree.
    public sealed record DecisionRequest(string? Note, string? Reason);

    public sealed record SessionSummaryResponse(
        Guid Id, Guid DeviceId, string DeviceName, string? CustomerName, string Status, string Summary, int Turns,
        DateTimeOffset SubmittedAt, DateTimeOffset? DecidedAt)
    {
        public static SessionSummaryResponse From(CustomerSession s) =>
            new(s.Id, s.DeviceId, s.DeviceName, s.CustomerName, s.Status, s.Synopsis(), s.Transcript.Count, s.SubmittedAt, s.DecidedAt);
    }

    public sealed record SessionResponse(
        Guid Id, Guid DeviceId, string DeviceName, string? CustomerName, string Status, string Summary,
        IReadOnlyList<TranscriptTurn> Transcript, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt, DateTimeOffset SubmittedAt,
        DateTimeOffset? DecidedAt, Guid? DecidedBy, string? DecisionNote)
    {
        public static SessionResponse From(CustomerSession s) => new(
            s.Id, s.DeviceId, s.DeviceName, s.CustomerName, s.Status, s.Synopsis(CustomerSession.MaxSummaryLength), s.Transcript,
            s.StartedAt, s.EndedAt, s.SubmittedAt, s.DecidedAt, s.DecidedBy, s.DecisionNote);
    }

    public sealed record ActivityResponse(string Type, Guid SessionId, string DeviceName, string? CustomerName, DateTimeOffset At, Guid? By);

    public sealed record AlertsResponse(int PendingApprovals, IReadOnlyList<SessionSummaryResponse> Pending, IReadOnlyList<ActivityResponse> RecentActivity);

    public sealed record SessionServices(DevicesDbContext Db, TimeProvider Time);

    public static async Task<Results<Created<SessionResponse>, Ok<SessionResponse>, ProblemHttpResult>> SubmitSession(
        SubmitSessionRequest request, HttpRequest http, [AsParameters] SessionServices services, CancellationToken cancellationToken)
    {
        if (await services.Db.FindPresentingDeviceAsync(http, cancellationToken) is not { } device)
        {
            return ApiProblems.Unauthorized(DeviceCredentials.Refused);
        }
        var now = services.Time.GetUtcNow();
        var errors = new Dictionary<string, string[]>();
        if (CustomerSessionRules.CustomerName(request.CustomerName) is { } badName) errors["customerName"] = [badName];
        if (CustomerSessionRules.Summary(request.Summary) is { } badSummary) errors["summary"] = [badSummary];
        if (CustomerSessionRules.Transcript(request.Transcript, now) is var (field, reason)) errors[field] = [reason];
        if (CustomerSessionRules.When(request.StartedAt, now) is { } badStart) errors["startedAt"] = [badStart];
        if (CustomerSessionRules.When(request.EndedAt, now) is { } badEnd) errors["endedAt"] = [badEnd];
        if (request.EndedAt < request.StartedAt) errors["endedAt"] = ["The session cannot end before it started."];
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }

        var (session, submitted) = CustomerSession.Submit(
            device.OrganizationId, device.Id, device.Name, request.SubmissionId, string.IsNullOrWhiteSpace(request.CustomerName) ? null : request.CustomerName.Trim(), request.Summary,
            [.. request.Transcript!.Select(t => t!)], request.StartedAt, request.EndedAt, now);
        services.Db.CustomerSessions.Add(session);
        services.Db.AddToOutbox(submitted);
        try
        {
            await services.Db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // A retried upload: the session it created the first time.
            var existing = await services.Db.CustomerSessions.AsNoTracking()
                .SingleAsync(s => s.DeviceId == device.Id && s.SubmissionId == request.SubmissionId, cancellationToken);
            return TypedResults.Ok(SessionResponse.From(existing));
        }
        return TypedResults.Created($"/api/customer-sessions/{session.Id}", SessionResponse.From(session));
    }

    public static async Task<Results<Ok<Page<SessionSummaryResponse>>, ProblemHttpResult>> ListSessions(
        string? status, int? limit, int? offset, ClaimsPrincipal user, DevicesDbContext db, CancellationToken cancellationToken)
    {
        if (CustomerSessionRules.Status(status) is { } badStatus)
        {
            return ApiProblems.Invalid("status", badStatus);
        }
        if (PageRequest.Check(limit, offset, out var page) is { } problem)
        {
            return problem;
        }

        var organizationId = user.Organization();
        var query = db.CustomerSessions.AsNoTracking().Where(s => s.OrganizationId == organizationId);
        if (status is not null)
        {
            query = query.Where(s => s.Status == status);
        }
        var total = await query.CountAsync(cancellationToken);
        var sessions = await query.OrderByDescending(s => s.SubmittedAt).Skip(page.Offset).Take(page.Limit).ToListAsync(cancellationToken);
        return TypedResults.Ok(page.Of([.. sessions.Select(SessionSummaryResponse.From)], total));
    }

    public static async Task<Results<Ok<SessionResponse>, ProblemHttpResult>> GetSession(
        Guid id, ClaimsPrincipal user, DevicesDbContext db, CancellationToken cancellationToken)
    {
        var organizationId = user.Organization();
        var session = await db.CustomerSessions.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id && s.OrganizationId == organizationId, cancellationToken);
        return session is null ? ApiProblems.NotFound("There is no such customer session.") : TypedResults.Ok(SessionResponse.From(session));
    }

    public static Task<Results<Ok<SessionResponse>, ProblemHttpResult>> ApproveSession(
        Guid id, DecisionRequest? request, ClaimsPrincipal user, [AsParameters] SessionServices services, CancellationToken cancellationToken) =>
        DecideAsync(id, request, user, services, (s, by, note, now) => s.Approve(by, note, now), cancellationToken);

    public static Task<Results<Ok<SessionResponse>, ProblemHttpResult>> RejectSession(
        Guid id, DecisionRequest? request, ClaimsPrincipal user, [AsParameters] SessionServices services, CancellationToken cancellationToken) =>
        DecideAsync(id, request, user, services, (s, by, reason, now) => s.Reject(by, reason, now), cancellationToken);

    // A session is decided once: a second decision, either way, is a 409 that says what it already is.
    private static async Task<Results<Ok<SessionResponse>, ProblemHttpResult>> DecideAsync(
        Guid id, DecisionRequest? request, ClaimsPrincipal user, SessionServices services,
        Func<CustomerSession, Guid, string?, DateTimeOffset, object> decide, CancellationToken cancellationToken)
    {
        if (request is { Note: not null, Reason: not null } && request.Note != request.Reason)
        {
            return ApiProblems.Invalid("reason", "The fields 'note' and 'reason' are one field (the decision's note) and differ; send one of them.");
        }
        var note = request?.Note ?? request?.Reason;
        if (CustomerSessionRules.Note(note) is { } badNote)
        {
            return ApiProblems.Invalid(request!.Note is null ? "reason" : "note", badNote);
        }
        var organizationId = user.Organization();
        var session = await services.Db.CustomerSessions.SingleOrDefaultAsync(s => s.Id == id && s.OrganizationId == organizationId, cancellationToken);
        if (session is null)
        {
            return ApiProblems.NotFound("There is no such customer session.");
        }
        if (session.Status != CustomerSessionStatus.Pending)
        {
            return AlreadyDecided(session.Status);
        }
        services.Db.AddToOutbox(decide(session, user.GetUserId(), string.IsNullOrWhiteSpace(note) ? null : note.Trim(), services.Time.GetUtcNow()));
        try
        {
            await services.Db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            var current = await services.Db.CustomerSessions.AsNoTracking().Where(s => s.Id == id).Select(s => s.Status).SingleAsync(cancellationToken);
            return AlreadyDecided(current);
        }
        return TypedResults.Ok(SessionResponse.From(session));
    }

    private static ProblemHttpResult AlreadyDecided(string status) =>
        ApiProblems.Conflict("status", $"This session was already {status}; a session is approved or rejected once.");

    public static async Task<Ok<AlertsResponse>> GetAlerts(ClaimsPrincipal user, [AsParameters] SessionServices services, CancellationToken cancellationToken)
    {
        var organizationId = user.Organization();
        var sessions = services.Db.CustomerSessions.AsNoTracking().Where(s => s.OrganizationId == organizationId);
        var pendingCount = await sessions.CountAsync(s => s.Status == CustomerSessionStatus.Pending, cancellationToken);
        var oldestPending = await sessions.Where(s => s.Status == CustomerSessionStatus.Pending)
            .OrderBy(s => s.SubmittedAt).Take(PendingShownInAlerts).ToListAsync(cancellationToken);

        var since = services.Time.GetUtcNow() - RecentActivityWindow;
        var recent = await sessions.Where(s => s.SubmittedAt >= since || s.DecidedAt >= since)
            .OrderByDescending(s => s.DecidedAt ?? s.SubmittedAt).Take(RecentActivityShown)
            .Select(s => new { s.Id, s.DeviceName, s.CustomerName, s.Status, s.SubmittedAt, s.DecidedAt, s.DecidedBy })
            .ToListAsync(cancellationToken);
        var activity = recent
            .SelectMany(s => new[]
            {
                new ActivityResponse("session_submitted", s.Id, s.DeviceName, s.CustomerName, s.SubmittedAt, null),
                s.DecidedAt is { } decidedAt ? new ActivityResponse($"session_{s.Status}", s.Id, s.DeviceName, s.CustomerName, decidedAt, s.DecidedBy) : null,
            })
            .OfType<ActivityResponse>()
            .Where(a => a.At >= since)
            .OrderByDescending(a => a.At)
            .Take(RecentActivityShown)
            .ToList();

        return TypedResults.Ok(new AlertsResponse(pendingCount, [.. oldestPending.Select(SessionSummaryResponse.From)], activity));
    }
}
