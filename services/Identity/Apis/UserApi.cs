using Gateway.Identity.Accounts;
using Gateway.Identity.Credits;
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

        api.MapGet("/", GetProfile);
        api.MapPatch("/", UpdateProfile).RequireAuthorization(CallerAuthentication.UserPolicy);

        return app;
    }

    public sealed record AssistantDto(string? Name, IReadOnlyList<string>? Interests);

    // Status is always "stopped": assistants have no runtime yet (the personal-assistant issue gives them one); the field
    // keeps its place in seed 002's shape meanwhile.
    public sealed record AssistantResponse(string? Name, IReadOnlyList<string>? Interests, string Status);

    // Credits: the caller's wallet in Billing; null when Billing could not be asked (the rest still answers).
    public sealed record ProfileResponse(
        Guid Id, string Email, string? Name, string? Timezone, Guid OrganizationId, string Role,
        AssistantResponse Assistant, CreditBalance? Credits, DateTimeOffset CreatedAt)
    {
        public const string AssistantStopped = "stopped";

        public static ProfileResponse From(User user, CreditBalance? credits) => new(
            user.Id, user.Email!, user.Name, user.Timezone, user.OrganizationId, user.Role.Name(),
            new AssistantResponse(user.Assistant.Name, user.Assistant.Interests, AssistantStopped), credits, user.CreatedAt);
    }
    public sealed record UpdateProfileRequest(string? Name, string? Timezone, AssistantDto? Assistant);

    private const int MaxInterests = 20;
    private const int MaxInterest = 50;

    public static async Task<Results<Ok<ProfileResponse>, ProblemHttpResult>> GetProfile(
        HttpContext context, AccountsDbContext db, BillingBalances balances, CancellationToken cancellationToken)
    {
        if (await db.FindCallerAsync(context.User, cancellationToken) is not { } user)
        {
            return ApiProblems.Unauthorized("This account no longer exists.");
        }
        return TypedResults.Ok(ProfileResponse.From(user, await balances.ForCallerAsync(context.Request, cancellationToken)));
    }

    // Fields left out of the body stay as they are.
    public static async Task<Results<Ok<ProfileResponse>, ValidationProblem, ProblemHttpResult>> UpdateProfile(
        UpdateProfileRequest request, HttpContext context, AccountsDbContext db, BillingBalances balances, CancellationToken cancellationToken)
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
        return TypedResults.Ok(ProfileResponse.From(user, await balances.ForCallerAsync(context.Request, cancellationToken)));
    }
}
