using System.Text.Json.Serialization;
using Gateway.Identity.Accounts;
using Gateway.Identity.Profile;
using Gateway.Identity.Infrastructure;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Identity.Apis;

// The signed-in user's own profile and settings (seed 002).
public static class UserApi
{
    public static IEndpointRouteBuilder MapUserApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/user").WithTags("User").RequireAuthorization();

        api.MapGet("/", GetProfile).WithSummary("Your profile and settings, with your credits and assistant status.");
        api.MapPatch("/", UpdateProfile).WithSummary("Changes your profile and settings; fields left out stay.").RequireAuthorization(CallerAuthentication.UserPolicy);

        return app;
    }

    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
    public sealed record AssistantDto(string? Name, IReadOnlyList<string>? Interests);

    // Status (and StatusReason) as Chat, which runs assistants, says: stopped, starting, running, stopping, failed; "unknown"
    // when Chat could not be asked.
    public sealed record AssistantResponse(string? Name, IReadOnlyList<string>? Interests, string Status, string? StatusReason);

    // Credits: the caller's wallet in Billing; null when Billing could not be asked (the rest still answers).
    public sealed record ProfileResponse(
        Guid Id, string Email, string? Name, string? Timezone, Guid OrganizationId, string Role,
        AssistantResponse Assistant, CreditBalance? Credits, DateTimeOffset CreatedAt)
    {
        public const string AssistantUnknown = "unknown";

        public static ProfileResponse From(User user, CreditBalance? credits, AssistantState? assistant) => new(
            user.Id, user.Email!, user.Name, user.Timezone, user.OrganizationId, user.Role.Name(),
            new AssistantResponse(user.Assistant.Name, user.Assistant.Interests, assistant?.Status ?? AssistantUnknown, assistant?.Reason), credits, user.CreatedAt);

        // The parts other services know, asked at once.
        public static async Task<ProfileResponse> ReadAsync(User user, HttpRequest request, ProfileReads reads, CancellationToken cancellationToken)
        {
            var credits = reads.BalanceAsync(request, cancellationToken);
            var assistant = reads.AssistantAsync(request, cancellationToken);
            return From(user, await credits, await assistant);
        }
    }
    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)] // a misspelt member would change nothing
    public sealed record UpdateProfileRequest(string? Name, string? Timezone, AssistantDto? Assistant);

    private const int MaxInterests = 20;
    private const int MaxInterest = 50;

    public static async Task<Results<Ok<ProfileResponse>, ProblemHttpResult>> GetProfile(
        HttpContext context, AccountsDbContext db, ProfileReads reads, CancellationToken cancellationToken)
    {
        if (await db.FindCallerAsync(context.User, cancellationToken) is not { } user)
        {
            return ApiProblems.Unauthorized("This account no longer exists.");
        }
        return TypedResults.Ok(await ProfileResponse.ReadAsync(user, context.Request, reads, cancellationToken));
    }

    // Fields left out of the body stay as they are.
    public static async Task<Results<Ok<ProfileResponse>, ProblemHttpResult>> UpdateProfile(
        UpdateProfileRequest request, HttpContext context, AccountsDbContext db, ProfileReads reads, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var interests = request.Assistant?.Interests;
        if (!AccountRules.Check(errors,
                ("name", AccountRules.Name(request.Name)),
                ("timezone", AccountRules.Timezone(request.Timezone)),
                ("assistant.name", AccountRules.Name(request.Assistant?.Name)),
                ("assistant.interests", interests switch
                {
                    null => null,
                    { Count: > MaxInterests } => $"At most {MaxInterests} interests.",
                    _ when interests.Any(string.IsNullOrWhiteSpace) => "An interest cannot be blank.",
                    _ when interests.Any(i => i.Length > MaxInterest) => $"An interest is at most {MaxInterest} characters.",
                    _ when interests.Any(OneLineText.HasBreaking) => "An interest cannot contain control characters.",
                    _ => null,
                })))
        {
            return ApiProblems.Invalid(errors);
        }

        if (await db.FindCallerAsync(context.User, cancellationToken) is not { } user)
        {
            return ApiProblems.Unauthorized("This account no longer exists.");
        }
        if (request.Name is not null) user.Name = request.Name.Trim();
        if (request.Timezone is not null) user.Timezone = request.Timezone;
        if (request.Assistant?.Name is not null) user.Assistant.Name = request.Assistant.Name.Trim();
        if (interests is not null) user.Assistant.Interests = [.. interests.Select(i => i.Trim()).Distinct()];
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(await ProfileResponse.ReadAsync(user, context.Request, reads, cancellationToken));
    }
}
