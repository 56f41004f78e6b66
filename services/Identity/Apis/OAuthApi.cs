using Gateway.Contracts;
using Gateway.Identity.Accounts;
using Gateway.Identity.Infrastructure;
using Gateway.Identity.OAuth;
using Gateway.Identity.Organizations;
using Gateway.Identity.Tokens;
using Gateway.ServiceDefaults;
using Gateway.ServiceDefaults.Outbox;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gateway.Identity.Apis;

// Sign-in with GitHub, Google or Microsoft (seed 003): authorization code with state and PKCE.
public static class OAuthApi
{
    public static IEndpointRouteBuilder MapOAuthApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/auth/oauth").WithTags("OAuth");

        api.MapGet("", ListProviders).WithSummary("The providers this server can sign in with (those configured).");
        api.MapGet("/{provider}", Start).WithSummary("Starts signing in with GitHub, Google or Microsoft.");
        api.MapGet("/{provider}/callback", Callback).WithSummary("Where the provider sends the browser back: completes the sign-in.");

        return app;
    }

    public sealed record StartResponse(string Url);

    public sealed record ProvidersResponse(IReadOnlyList<string> Providers);

    // What a sign-in page offers: asking each provider's start for it was a 404 for every one not configured.
    public static Ok<ProvidersResponse> ListProviders(IOptions<OAuthSignInOptions> options) =>
        TypedResults.Ok(new ProvidersResponse([.. options.Value.Providers.Where(p => p.Value.IsConfigured).Select(p => p.Key.ToLowerInvariant()).Order()]));

    public sealed record OAuthServices(
        AccountsDbContext Db, UserManager<User> Users, Sessions Sessions, OAuthClient Client,
        IOptions<OAuthSignInOptions> Options, TimeProvider Time, ILogger<OAuthServices> Logger);

    // Redirects to the provider, or answers {url} to a caller that asks for JSON. A signed-in caller
    // links the provider to their account instead of signing in.
    public static async Task<Results<RedirectHttpResult, Ok<StartResponse>, ProblemHttpResult>> Start(
        string provider, HttpContext context, [AsParameters] OAuthServices services, CancellationToken cancellationToken)
    {
        provider = provider.ToLowerInvariant();
        if (services.Options.Value.Configured(provider) is not { } options)
        {
            return NotConfigured(provider);
        }

        var (authorization, state) = OAuthAuthorization.Start(
            provider, options.UsePkce, context.User.UserId(), services.Time.GetUtcNow(), services.Options.Value.StateLifetime);
        services.Db.Add(authorization);
        await services.Db.SaveChangesAsync(cancellationToken);
        // Abandoned sign-ins are swept here rather than by a job: the table stays as small as the traffic.
        await services.Db.Set<OAuthAuthorization>().Where(a => a.ExpiresAt < services.Time.GetUtcNow()).ExecuteDeleteAsync(cancellationToken);

        var query = new Dictionary<string, string?>
        {
            ["client_id"] = options.ClientId,
            ["redirect_uri"] = RedirectUri(services.Options.Value, provider),
            ["response_type"] = "code",
            ["scope"] = options.Scopes,
            ["state"] = state,
        };
        if (authorization.CodeChallenge is { } challenge)
        {
            query["code_challenge"] = challenge;
            query["code_challenge_method"] = "S256";
        }
        var url = QueryHelpers.AddQueryString(options.AuthorizationEndpoint!, query);

        var wantsJson = context.Request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase));
        return wantsJson ? TypedResults.Ok(new StartResponse(url)) : TypedResults.Redirect(url);
    }

    public static async Task<Results<Ok<AuthApi.SessionResponse>, ProblemHttpResult>> Callback(
        string provider, [AsParameters] OAuthServices services, CancellationToken cancellationToken,
        string? code = null, string? state = null, string? error = null)
    {
        provider = provider.ToLowerInvariant();
        if (services.Options.Value.Configured(provider) is not { } options)
        {
            return NotConfigured(provider);
        }
        if (error is not null)
        {
            return ApiProblems.Invalid("error", $"{provider} did not grant the sign-in ({(error.Length > 100 ? error[..100] : error)}).");
        }
        var errors = new Dictionary<string, string[]>();
        if (!AccountRules.Check(errors,
                ("code", code is { Length: > 0 and <= 2048 } ? null : "The authorization code is missing or too long."),
                ("state", state is { Length: > 0 and <= 200 } ? null : "The state is missing or too long.")))
        {
            return ApiProblems.Invalid(errors);
        }

        // The state is consumed before the code is exchanged: a replayed callback finds nothing.
        var db = services.Db;
        var hash = OAuthAuthorization.Hash(state!);
        var authorization = await db.Set<OAuthAuthorization>().AsNoTracking()
            .SingleOrDefaultAsync(a => a.StateHash == hash && a.Provider == provider, cancellationToken);
        var consumed = authorization is null ? 0 : await db.Set<OAuthAuthorization>().Where(a => a.Id == authorization.Id).ExecuteDeleteAsync(cancellationToken);
        if (authorization is null || consumed == 0)
        {
            return ApiProblems.Invalid("state", "This sign-in was not started here, or was already finished; start it again.");
        }
        if (authorization.ExpiresAt <= services.Time.GetUtcNow())
        {
            return ApiProblems.Invalid("state", "This sign-in took too long and has expired; start it again.");
        }

        var signIn = await services.Client.SignInAsync(
            provider, options, code!, authorization.CodeVerifier, RedirectUri(services.Options.Value, provider), cancellationToken);
        if (signIn is ExternalSignIn.Failed(var field, var reason))
        {
            return ApiProblems.Problem(StatusCodes.Status401Unauthorized, "Sign-in refused", reason, field);
        }
        var external = ((ExternalSignIn.Succeeded)signIn).User;
        return await SignInAsync(services, provider, external, authorization.LinkUserId, cancellationToken);
    }

    private static async Task<Results<Ok<AuthApi.SessionResponse>, ProblemHttpResult>> SignInAsync(
        OAuthServices services, string provider, ExternalUser external, Guid? linkUserId, CancellationToken cancellationToken)
    {
        var users = services.Users;
        var user = await users.FindByLoginAsync(provider, external.Id);
        if (user is not null && linkUserId is not null && user.Id != linkUserId)
        {
            return ApiProblems.Conflict("provider", $"This {provider} account is already connected to another account.");
        }

        await using var transaction = await services.Db.Database.BeginTransactionAsync(cancellationToken);
        if (user is null && linkUserId is { } id)
        {
            user = await users.FindByIdAsync(id.ToString());
            if (user is null)
            {
                return ApiProblems.Unauthorized("The account that started this sign-in no longer exists.");
            }
            await users.AddLoginAsync(user, new UserLoginInfo(provider, external.Id, provider));
            services.Logger.LogInformation("Connected {Provider} to user {UserId}", provider, user.Id);
        }
        else if (user is null)
        {
            // Never joined to an existing account by e-mail alone: that would hand a password account to
            // whoever controls the address at the provider. Its owner signs in and connects the provider.
            if (await users.FindByNameAsync(external.Email) is not null)
            {
                return ApiProblems.Conflict("email",
                    $"An account with this e-mail address already exists; sign in with your password and connect {provider} from there.");
            }
            user = await CreateAsync(services, external);
            if (user is null)
            {
                return ApiProblems.Conflict("email", "An account with this e-mail address already exists.");
            }
            await users.AddLoginAsync(user, new UserLoginInfo(provider, external.Id, provider));
            services.Logger.LogInformation("Registered user {UserId} through {Provider}", user.Id, provider);
        }

        var tokens = services.Sessions.Start(user);
        await services.Db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(new AuthApi.SessionResponse(UserResponse.From(user), tokens.AccessToken, tokens.RefreshToken, tokens.ExpiresAt));
    }

    // A new account without a password, owning a new organisation, as at registration.
    private static async Task<User?> CreateAsync(OAuthServices services, ExternalUser external)
    {
        var name = external.Name is { Length: > 0 and <= AccountRules.MaxName } n ? n : null;
        var organization = Organization.Create($"{name ?? external.Email[..external.Email.IndexOf('@')]}'s organization", external.Email);
        var user = User.Create(external.Email, name, organization.Id, Role.Owner);
        user.EmailConfirmed = true;
        services.Db.Organizations.Add(organization);
        services.Db.AddToOutbox(new UserRegistered(user.Id, organization.Id, user.Email!, user.CreatedAt));
        services.Db.AddToOutbox(new UserJoinedOrganization(user.Id, organization.Id, Role.Owner.Name(), null, user.CreatedAt));
        var result = await services.Users.CreateAsync(user);
        return result.Succeeded ? user : null;
    }

    private static string RedirectUri(OAuthSignInOptions options, string provider) =>
        $"{options.CallbackBaseUrl.TrimEnd('/')}/api/auth/oauth/{provider}/callback";

    private static ProblemHttpResult NotConfigured(string provider) =>
        ApiProblems.Problem(StatusCodes.Status404NotFound, "Unknown sign-in provider",
            $"Sign-in with '{(provider.Length > 40 ? provider[..40] : provider)}' is not configured here.", "provider");
}
