using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Gateway.Chat.Generations;
using Gateway.Chat.Infrastructure;
using Gateway.Chat.Metering;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Chat.Apis;

// Icons at a flat price (Chat:Generations:icon): the model draws an SVG, which is checked and cleaned before it is
// stored and charged. An answer that is not SVG is not charged. The generation path is pages' (GenerationFormat);
// only completed icons are listed here.
public static class IconsApi
{
    private const int MaxPrompt = 2000;

    public static IEndpointRouteBuilder MapIconsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/icons").WithTags("Icons").RequireAuthorization();
        api.MapPost("", CreateIcon).WithSummary("Draws an SVG icon from a prompt, at a flat price.");
        api.MapGet("", ListIcons).WithSummary("Lists your icons, newest first.");
        api.MapGet("/{id}", GetIcon).WithSummary("Reads one of your icons, its SVG included.");
        return app;
    }

    public static async Task<Results<Created<IconCreated>, ProblemHttpResult>> CreateIcon(
        IconRequest request, HttpContext http, ClaimsPrincipal user, [AsParameters] GenerationServices services)
    {
        if (string.IsNullOrWhiteSpace(request.Prompt))
        {
            return ChatProblems.Invalid("prompt", "is required");
        }
        if (request.Prompt.Length > MaxPrompt)
        {
            return ChatProblems.Invalid("prompt", $"is longer than {MaxPrompt} characters");
        }
        var kind = GenerationKind.Icon;
        if (services.Catalog.FindGeneration(kind.Name) is not { } priced)
        {
            return ChatProblems.From(new Refusal(StatusCodes.Status503ServiceUnavailable, "Not configured", "Icon generation is not configured (Chat:Generations:icon)."));
        }

        var turn = GenerationTurn.For(priced, kind, request.Prompt, services.Tokens, stream: false, IdempotencyKeys.Hash(request));
        var format = new GenerationFormat<Results<Created<IconCreated>, ProblemHttpResult>>(
            services.Run(kind, request.Prompt, user.GetUserId(), priced),
            new(refusal => ChatProblems.From(refusal),
                icon => TypedResults.Created($"/api/icons/{icon.Id}", new IconCreated(icon.Id, icon.Output, icon.Credits, icon.Balance))));
        return await services.Turns.RunAsync(http, turn, format);
    }

    public static async Task<Results<Ok<Page<IconView>>, ProblemHttpResult>> ListIcons(
        ClaimsPrincipal user, ChatDbContext db, int? limit, int? offset, CancellationToken cancellationToken)
    {
        if (PageRequest.Check(limit, offset, out var page) is { } problem)
        {
            return problem;
        }
        var icons = Icons(db, user.GetUserId());
        var data = await icons.OrderByDescending(i => i.CreatedAt).ThenByDescending(i => i.Id)
            .Skip(page.Offset).Take(page.Limit)
            .Select(i => new IconView(i.Id, i.Prompt, i.Output!, i.Model, i.CreatedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(page.Of(data, await icons.CountAsync(cancellationToken)));
    }

    public static async Task<Results<Ok<IconView>, ProblemHttpResult>> GetIcon(string id, ClaimsPrincipal user, ChatDbContext db, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var iconId))
        {
            return ChatProblems.Invalid("id", "is not an icon id");
        }
        var icon = await Icons(db, user.GetUserId()).Where(i => i.Id == iconId)
            .Select(i => new IconView(i.Id, i.Prompt, i.Output!, i.Model, i.CreatedAt))
            .SingleOrDefaultAsync(cancellationToken);
        return icon is null ? ChatProblems.NotFound("icon") : TypedResults.Ok(icon);
    }

    // An icon is a completed generation of the kind "icon": one still drawing, or refused, is not an icon.
    private static IQueryable<Generation> Icons(ChatDbContext db, Guid userId) =>
        db.Generations.AsNoTracking().Where(g => g.UserId == userId && g.Kind == GenerationKind.Icon.Name && g.Status == GenerationStatus.Completed);
}

public sealed record IconRequest([property: Required] string? Prompt);

public sealed record IconCreated(Guid Id, string Svg, long Credits, long Balance);

public sealed record IconView(Guid Id, string Prompt, string Svg, string Model, DateTimeOffset CreatedAt);

