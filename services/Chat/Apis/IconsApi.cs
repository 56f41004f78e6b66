using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Gateway.Chat.Generations;
using Gateway.Chat.Infrastructure;
using Gateway.Chat.Metering;
using Gateway.Chat.Upstream;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using AI = Microsoft.Extensions.AI;

namespace Gateway.Chat.Apis;

// Icons at a flat price (Chat:Generations:icon): the model draws an SVG, which is checked and cleaned
// before it is stored and charged. An answer that is not SVG is not charged.
public static class IconsApi
{
    public const string Kind = "icon";
    private const int MaxPrompt = 2000;
    private const int DefaultPage = 20;
    private const int MaxPage = 100;

    private const string DefaultInstructions =
        "You draw icons. Answer with exactly one standalone SVG document (xmlns=\"http://www.w3.org/2000/svg\", viewBox \"0 0 24 24\"), " +
        "no prose, no code fences, no scripts, no external references.";

    public static IEndpointRouteBuilder MapIconsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/icons").RequireAuthorization();
        api.MapPost("", CreateIcon);
        api.MapGet("", ListIcons);
        api.MapGet("/{id}", GetIcon);
        return app;
    }

    public static async Task<Results<Created<IconCreated>, ProblemHttpResult>> CreateIcon(
        IconRequest request, HttpContext http, ClaimsPrincipal user, [AsParameters] TurnServices services)
    {
        var (db, turns, meter, catalog, clock, _) = services;
        if (string.IsNullOrWhiteSpace(request.Prompt))
        {
            return ChatProblems.Invalid("prompt", "is required");
        }
        if (request.Prompt.Length > MaxPrompt)
        {
            return ChatProblems.Invalid("prompt", $"is longer than {MaxPrompt} characters");
        }
        if (catalog.FindGeneration(Kind) is not { } generation)
        {
            return ChatProblems.From(new Refusal(StatusCodes.Status503ServiceUnavailable, "Not configured", "Icon generation is not configured (Chat:Generations:icon)."));
        }

        var prompt = new List<AI.ChatMessage>
        {
            new(AI.ChatRole.System, generation.Instructions is { Length: > 0 } instructions ? instructions : DefaultInstructions),
            new(AI.ChatRole.User, request.Prompt),
        };
        var turn = new MeteredTurn(generation.Model, prompt, meter.Tokens.CountPrompt(prompt), generation.MaxOutputTokens) { FlatPrice = generation.Price };
        return await turns.RunAsync(http, turn, new IconFormat(request.Prompt, user.GetUserId(), db, clock));
    }

    // An icon is delivered, and its flat price charged, only as a clean SVG; anything else charges nothing.
    private sealed class IconFormat(string prompt, Guid userId, ChatDbContext db, TimeProvider clock)
        : TurnFormat<IconCreated, Results<Created<IconCreated>, ProblemHttpResult>>
    {
        private string? _svg;

        public override string Kind => IconsApi.Kind;

        public override Results<Created<IconCreated>, ProblemHttpResult> Refused(Refusal refusal) => ChatProblems.From(refusal);

        public override Results<Created<IconCreated>, ProblemHttpResult> Answered(IconCreated icon) => TypedResults.Created($"/api/icons/{icon.Id}", icon);

        public override string? Undelivered(UpstreamCall call)
        {
            _svg = call.End == CallEnd.Completed ? SvgDocument.Clean(call.Text) : null;
            return _svg is not null ? null : call.End switch
            {
                CallEnd.Failed => call.FailureDetail!,
                CallEnd.CallerLeft => "The caller left before the icon was drawn.",
                _ => "The model did not answer with an SVG image.",
            };
        }

        public override Refusal NotCharged(UpstreamCall call, string why) =>
            new(call.End == CallEnd.Failed ? call.FailureStatus : StatusCodes.Status502BadGateway, "Generation failed", $"{why} Nothing was charged.");

        public override IconCreated Answer(SettledTurn turn)
        {
            var icon = new Icon { UserId = userId, Prompt = prompt, Svg = _svg!, Model = turn.Model.Id, CreatedAt = clock.GetUtcNow() };
            db.Icons.Add(icon);
            return new IconCreated(icon.Id, icon.Svg, turn.Usage.Credits, turn.Balance);
        }
    }

    public static async Task<Results<Ok<IconPage>, ProblemHttpResult>> ListIcons(
        ClaimsPrincipal user, ChatDbContext db, int? limit, int? offset, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > MaxPage)
        {
            return ChatProblems.Invalid("limit", $"must be between 1 and {MaxPage}");
        }
        if (offset is < 0)
        {
            return ChatProblems.Invalid("offset", "must not be negative");
        }
        var userId = user.GetUserId();
        var icons = db.Icons.AsNoTracking().Where(i => i.UserId == userId);
        var data = await icons.OrderByDescending(i => i.CreatedAt).ThenByDescending(i => i.Id)
            .Skip(offset ?? 0).Take(limit ?? DefaultPage)
            .Select(i => new IconView(i.Id, i.Prompt, i.Svg, i.Model, i.CreatedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new IconPage(data, await icons.CountAsync(cancellationToken), limit ?? DefaultPage, offset ?? 0));
    }

    public static async Task<Results<Ok<IconView>, ProblemHttpResult>> GetIcon(string id, ClaimsPrincipal user, ChatDbContext db, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var iconId))
        {
            return ChatProblems.Invalid("id", "is not an icon id");
        }
        var userId = user.GetUserId();
        var icon = await db.Icons.AsNoTracking().Where(i => i.Id == iconId && i.UserId == userId)
            .Select(i => new IconView(i.Id, i.Prompt, i.Svg, i.Model, i.CreatedAt))
            .SingleOrDefaultAsync(cancellationToken);
        return icon is null ? ChatProblems.NotFound("icon") : TypedResults.Ok(icon);
    }
}

public sealed record IconRequest([property: Required] string? Prompt);

public sealed record IconCreated(Guid Id, string Svg, long Credits, long Balance);

public sealed record IconView(Guid Id, string Prompt, string Svg, string Model, DateTimeOffset CreatedAt);

public sealed record IconPage(IReadOnlyList<IconView> Data, int Total, int Limit, int Offset);
