using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Gateway.Chat.Generations;
using Gateway.Chat.Infrastructure;
using Gateway.Chat.Metering;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Chat.Apis;

// Page generations (seed 004) at a flat price per format (Chat:Generations:<format>): the model writes the page's
// code, streamed as it comes, checked to be of the format before it is stored and charged. Another user's is 404.
public static class GenerationsApi
{
    private const int MaxPrompt = 4000;

    // How often streaming a running generation looks whether it has ended.
    private static readonly TimeSpan FollowEvery = TimeSpan.FromMilliseconds(500);

    public static IEndpointRouteBuilder MapGenerationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/generations").WithTags("Generations").RequireAuthorization();
        api.MapPost("", CreateGeneration)
            .WithSummary("Generates a page's code from a prompt, at a flat price per format.")
            .WithDescription("With Accept: text/event-stream, Server-Sent Events started {id, format, status, createdAt}, code {text}…, then done " +
                "{id, format, status, credits, balance, completedAt} or error {status, detail}; otherwise 201 with the whole generation.");
        api.MapGet("", ListGenerations).WithSummary("Lists your page generations, newest first.");
        api.MapGet("/{id}", GetGeneration).WithSummary("Reads one of your page generations, its code included.");
        api.MapGet("/{id}/stream", StreamGeneration)
            .WithSummary("Streams one of your page generations, following it while it runs.")
            .WithDescription("Server-Sent Events: started, then code {text} (the stored code, once) and done, or error; a running generation is " +
                "followed until it ends.");
        return app;
    }

    public static async Task<Results<EventStreamResult, Created<GenerationCreated>, ProblemHttpResult>> CreateGeneration(
        GenerationRequest request, HttpContext http, ClaimsPrincipal user, [AsParameters] GenerationServices services)
    {
        if (string.IsNullOrWhiteSpace(request.Prompt))
        {
            return ChatProblems.Invalid("prompt", "is required");
        }
        if (request.Prompt.Length > MaxPrompt)
        {
            return ChatProblems.Invalid("prompt", $"is longer than {MaxPrompt} characters");
        }
        if (request.Format is null || !GenerationKind.Pages.TryGetValue(request.Format, out var kind))
        {
            return ChatProblems.Invalid("format", $"must be one of {string.Join(", ", PageDocument.Formats)}");
        }
        if (services.Catalog.FindGeneration(kind.Name) is not { } priced)
        {
            return ChatProblems.From(new Refusal(StatusCodes.Status503ServiceUnavailable, "Not configured",
                $"Pages in {kind.Name} are not configured (Chat:Generations:{kind.Name})."));
        }

        var accept = http.Request.Headers.Accept.ToString();
        var stream = accept.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase);
        var turn = GenerationTurn.For(priced, kind, request.Prompt, services.Tokens, stream, IdempotencyKeys.Hash(request));
        GenerationFormat<Results<EventStreamResult, Created<GenerationCreated>, ProblemHttpResult>>? format = null;
        format = new(services.Run(kind, request.Prompt, user.GetUserId(), priced), new(
            // A refusal after the generation was stored names it: it is now failed, and GET shows why.
            refusal => ChatProblems.From(format!.Id == Guid.Empty ? refusal : refusal with { Detail = $"{refusal.Detail} (generation {format.Id})" }),
            page => TypedResults.Created($"/api/generations/{page.Id}",
                new GenerationCreated(page.Id, page.Kind, GenerationStatus.Completed, page.Output, page.Credits, page.Balance, page.CreatedAt, page.CompletedAt)),
            events => events));
        return await services.Turns.RunAsync(http, turn, format);
    }

    public static async Task<Results<Ok<Page<GenerationSummary>>, ProblemHttpResult>> ListGenerations(
        ClaimsPrincipal user, [AsParameters] GenerationServices services, int? limit, int? offset, CancellationToken cancellationToken)
    {
        if (PageRequest.Check(limit, offset, out var page) is { } problem)
        {
            return problem;
        }
        var pages = Pages(services.Db, user.GetUserId());
        var rows = await pages.OrderByDescending(g => g.CreatedAt).ThenByDescending(g => g.Id)
            .Skip(page.Offset).Take(page.Limit)
            .Select(g => new { g.Id, g.Kind, g.Status, g.Prompt, g.Model, g.Credits, g.Error, g.CreatedAt, g.CompletedAt })
            .ToListAsync(cancellationToken);
        var now = services.Clock.GetUtcNow();
        var data = rows.Select(g => new GenerationSummary(g.Id, g.Kind, Generation.StatusAt(g.Status, g.CreatedAt, now, services.LongestRun),
            g.Prompt, g.Model, g.Credits, g.Error, g.CreatedAt, g.CompletedAt)).ToList();
        return TypedResults.Ok(page.Of(data, await pages.CountAsync(cancellationToken)));
    }

    public static async Task<Results<Ok<GenerationView>, ProblemHttpResult>> GetGeneration(
        string id, ClaimsPrincipal user, [AsParameters] GenerationServices services, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var generationId))
        {
            return ChatProblems.Invalid("id", "is not a generation id");
        }
        var generation = await Pages(services.Db, user.GetUserId()).SingleOrDefaultAsync(g => g.Id == generationId, cancellationToken);
        return generation is null ? ChatProblems.NotFound("generation") : TypedResults.Ok(View(generation, services));
    }

    // A finished generation: its stored code as one code event, then done (or its error). A running one: started
    // with status running, then followed (looked at every FollowEvery) until it ends, and answered the same way.
    public static async Task<Results<EventStreamResult, ProblemHttpResult>> StreamGeneration(
        string id, HttpContext http, ClaimsPrincipal user, [AsParameters] GenerationServices services)
    {
        if (!Guid.TryParse(id, out var generationId))
        {
            return ChatProblems.Invalid("id", "is not a generation id");
        }
        var pages = Pages(services.Db, user.GetUserId()).Where(g => g.Id == generationId);
        if (await pages.SingleOrDefaultAsync(http.RequestAborted) is not { } generation)
        {
            return ChatProblems.NotFound("generation");
        }
        return new EventStreamResult(async events =>
        {
            var view = View(generation, services);
            if (!await events.SendAsync("started", new GenerationStartedEvent(view.Id, view.Format, view.Status, view.CreatedAt)))
            {
                return;
            }
            try
            {
                while (view.Status == GenerationStatus.Running)
                {
                    await Task.Delay(FollowEvery, services.Clock, http.RequestAborted);
                    view = View(await pages.SingleAsync(http.RequestAborted), services);
                }
            }
            catch (OperationCanceledException)
            {
                return; // the caller left
            }
            if (view.Status == GenerationStatus.Completed)
            {
                await events.SendAsync("code", new { text = view.Code });
                await events.EndAsync("done", new GenerationDone(view.Id, view.Format, view.Status, view.Credits ?? 0, null, view.CompletedAt));
            }
            else
            {
                await events.EndAsync("error", new { status = StatusCodes.Status502BadGateway, detail = $"{view.Error} Nothing was charged." });
            }
        });
    }

    private static IQueryable<Generation> Pages(ChatDbContext db, Guid userId) =>
        db.Generations.AsNoTracking().Where(g => g.UserId == userId && PageDocument.Formats.Contains(g.Kind));

    private static GenerationView View(Generation g, GenerationServices services)
    {
        var status = Generation.StatusAt(g.Status, g.CreatedAt, services.Clock.GetUtcNow(), services.LongestRun);
        var error = status == GenerationStatus.Failed && g.Status == GenerationStatus.Running
            ? "The generation was interrupted (the service stopped while it ran)."
            : g.Error;
        return new GenerationView(g.Id, g.Kind, status, g.Prompt, g.Output, g.Model, g.Credits, error, g.CreatedAt, g.CompletedAt);
    }
}

public sealed record GenerationRequest([property: Required] string? Prompt, [property: Required] string? Format);

public sealed record GenerationCreated(Guid Id, string Format, string Status, string Code, long Credits, long Balance, DateTimeOffset CreatedAt, DateTimeOffset CompletedAt);

// Status: running, completed or failed (nothing charged; error says why). Credits: what it cost (0 when failed).
public sealed record GenerationView(
    Guid Id, string Format, string Status, string Prompt, string? Code, string Model, long? Credits, string? Error, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt);

public sealed record GenerationSummary(
    Guid Id, string Format, string Status, string Prompt, string Model, long? Credits, string? Error, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt);

