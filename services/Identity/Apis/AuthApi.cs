using System.ComponentModel.DataAnnotations;
using Gateway.Contracts;
using Gateway.Identity.Accounts;
using Gateway.Identity.Infrastructure;
using Gateway.Identity.Organizations;
using Gateway.Identity.Tokens;
using Gateway.ServiceDefaults;
using Gateway.ServiceDefaults.Outbox;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using Npgsql;

namespace Gateway.Identity.Apis;

public static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/auth").WithTags("Auth");

        api.MapPost("/register", Register).WithSummary("Creates an account and its organisation, and signs it in.");
        api.MapPost("/login", Login).WithSummary("Signs in with e-mail and password.");
        // Both read their optional body themselves (seed 003 sends none), so the reference is told of it.
        api.MapPost("/refresh", Refresh).WithSummary("Trades a refresh token for a new access token.").Accepts<RefreshRequest>(isOptional: true, "application/json")
            .WithDescription("The refresh token goes in the body or as the Bearer token; it is rotated, so keep the new one.");
        api.MapPost("/logout", Logout).WithSummary("Signs out: ends the session.").Accepts<RefreshRequest>(isOptional: true, "application/json")
            .WithDescription("Ends the session named by the refresh token in the body, by the access token sent, or by a refresh token sent as the Bearer token.");
        api.MapGet("/me", Me).WithSummary("Who you are signed in as.").RequireAuthorization();

        return app;
    }

    public sealed record RegisterRequest([property: Required] string? Email, [property: Required] string? Password, string? Name);
    public sealed record LoginRequest([property: Required] string? Email, [property: Required] string? Password);
    public sealed record RefreshRequest(string? RefreshToken);
    public sealed record SessionResponse(UserResponse User, string AccessToken, string RefreshToken, DateTimeOffset ExpiresAt);
    public sealed record TokenResponse(string AccessToken, string RefreshToken, DateTimeOffset ExpiresAt);
    public sealed record LogoutResponse(bool Success);

    public sealed record AuthServices(AccountsDbContext Db, UserManager<User> Users, Sessions Sessions, ILogger<AuthServices> Logger);

    public static async Task<Results<Created<SessionResponse>, ProblemHttpResult>> Register(
        RegisterRequest request, [AsParameters] AuthServices services, CancellationToken cancellationToken)
    {
        var email = AccountRules.Normalize(request.Email);
        var errors = new Dictionary<string, string[]>();
        if (!AccountRules.Check(errors,
                ("email", AccountRules.Email(email)),
                ("password", AccountRules.Password(request.Password)),
                ("name", AccountRules.Name(request.Name))))
        {
            return ApiProblems.Invalid(errors);
        }

        var name = request.Name?.Trim();
        var organization = Organization.Create($"{name ?? email![..email!.IndexOf('@')]}'s organization", email);
        var user = User.Create(email!, name, organization.Id, Role.Owner);

        // UserManager saves the whole unit of work: organisation, user, session and events commit together.
        services.Db.Organizations.Add(organization);
        services.Db.AddToOutbox(new UserRegistered(user.Id, organization.Id, user.Email!, user.CreatedAt));
        services.Db.AddToOutbox(new UserJoinedOrganization(user.Id, organization.Id, Role.Owner.Name(), null, user.CreatedAt));
        var tokens = services.Sessions.Start(user);

        var failure = await CreateAsync(services.Users, user, request.Password!);
        if (failure is not null)
        {
            return failure;
        }
        services.Logger.LogInformation("Registered user {UserId} owning organisation {OrganizationId}", user.Id, organization.Id);
        return TypedResults.Created("/api/auth/me", new SessionResponse(UserResponse.From(user), tokens.AccessToken, tokens.RefreshToken, tokens.ExpiresAt));
    }

    // Creates the user with Identity's password rules; a taken e-mail is a 409, a weak password a 400.
    internal static async Task<ProblemHttpResult?> CreateAsync(UserManager<User> users, User user, string password)
    {
        IdentityResult result;
        try
        {
            result = await users.CreateAsync(user, password);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // Lost a race with another registration of the same address.
            return ApiProblems.Conflict("email", "An account with this e-mail address already exists.");
        }
        if (result.Succeeded)
        {
            return null;
        }
        if (result.Errors.Any(e => e.Code is "DuplicateUserName" or "DuplicateEmail"))
        {
            return ApiProblems.Conflict("email", "An account with this e-mail address already exists.");
        }
        var errors = result.Errors
            .GroupBy(e => e.Code.StartsWith("Password", StringComparison.Ordinal) ? "password" : "email")
            .ToDictionary(g => g.Key, g => g.Select(e => e.Description).ToArray());
        return ApiProblems.Invalid(errors);
    }

    public static async Task<Results<Ok<SessionResponse>, ProblemHttpResult>> Login(
        LoginRequest request, [AsParameters] AuthServices services, HttpResponse response, CancellationToken cancellationToken)
    {
        var email = AccountRules.Normalize(request.Email);
        var errors = new Dictionary<string, string[]>();
        if (!AccountRules.Check(errors,
                ("email", email is null or "" ? "An e-mail address is required." : null),
                ("password", AccountRules.Password(request.Password))))
        {
            return ApiProblems.Invalid(errors);
        }

        const string wrong = "The e-mail address or the password is incorrect.";
        var users = services.Users;
        var user = email!.Length <= AccountRules.MaxEmail ? await users.FindByNameAsync(email) : null;
        if (user is null)
        {
            // Spend the same time as a real check, so response times do not reveal which addresses exist.
            users.PasswordHasher.VerifyHashedPassword(new User(), DummyHash.Value, request.Password!);
            return ApiProblems.Unauthorized(wrong);
        }
        if (await users.IsLockedOutAsync(user))
        {
            return Locked(user, response);
        }
        if (!await users.CheckPasswordAsync(user, request.Password!))
        {
            await users.AccessFailedAsync(user);
            return await users.IsLockedOutAsync(user) ? Locked(user, response) : ApiProblems.Unauthorized(wrong);
        }
        if (user.AccessFailedCount > 0)
        {
            await users.ResetAccessFailedCountAsync(user);
        }

        var tokens = services.Sessions.Start(user);
        await services.Db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new SessionResponse(UserResponse.From(user), tokens.AccessToken, tokens.RefreshToken, tokens.ExpiresAt));
    }

    private static readonly Lazy<string> DummyHash = new(() => new PasswordHasher<User>().HashPassword(new User(), Guid.NewGuid().ToString()));

    private static ProblemHttpResult Locked(User user, HttpResponse response)
    {
        var until = user.LockoutEnd ?? DateTimeOffset.UtcNow;
        var seconds = Math.Max(1, (int)Math.Ceiling((until - DateTimeOffset.UtcNow).TotalSeconds));
        response.Headers.RetryAfter = seconds.ToString();
        return TypedResults.Problem(
            detail: $"Too many failed sign-in attempts. Try again after {until:u} ({seconds} seconds).",
            statusCode: StatusCodes.Status423Locked,
            title: "Account locked",
            extensions: new Dictionary<string, object?> { ["lockedUntil"] = until, ["retryAfterSeconds"] = seconds });
    }

    // The refresh token comes in the body, or as `Authorization: Bearer <refresh token>` (seed 003).
    public static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> Refresh(
        HttpRequest http, Sessions sessions, CancellationToken cancellationToken)
    {
        var body = await ReadOptionalBodyAsync<RefreshRequest>(http, cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        var presented = body.Value?.RefreshToken ?? BearerToken(http);
        // Access tokens are JWTs (three dot-separated parts); refresh tokens have no dots.
        if (presented is not null && presented.Contains('.'))
        {
            return ApiProblems.Invalid("refreshToken",
                "That is an access token; a refresh needs the refresh token issued with it (refreshToken in the body, or as the Bearer token).");
        }
        if (string.IsNullOrEmpty(presented) || presented.Length > 200)
        {
            return ApiProblems.Invalid("refreshToken", "A refresh token is required, in the body or as a Bearer token.");
        }

        return await sessions.RotateAsync(presented, cancellationToken) switch
        {
            RotationResult.Rotated(var tokens) => TypedResults.Ok(new TokenResponse(tokens.AccessToken, tokens.RefreshToken, tokens.ExpiresAt)),
            RotationResult.Refused(var reason) => ApiProblems.Unauthorized(reason),
            _ => throw new InvalidOperationException(),
        };
    }

    // Ends the session named by the refresh token in the body, by the access token's session, or by a
    // refresh token sent as the Bearer token.
    public static async Task<Results<Ok<LogoutResponse>, ProblemHttpResult>> Logout(
        HttpContext context, Sessions sessions, CancellationToken cancellationToken)
    {
        var body = await ReadOptionalBodyAsync<RefreshRequest>(context.Request, cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (body.Value?.RefreshToken is { Length: > 0 and <= 200 } refreshToken)
        {
            await sessions.EndByRefreshTokenAsync(refreshToken, cancellationToken);
            return TypedResults.Ok(new LogoutResponse(true));
        }
        if (context.User.UserId() is { } userId && context.User.SessionId() is { } sessionId)
        {
            await sessions.EndAsync(sessionId, userId, cancellationToken);
            return TypedResults.Ok(new LogoutResponse(true));
        }
        if (BearerToken(context.Request) is { Length: > 0 and <= 200 } bearer && !bearer.Contains('.'))
        {
            await sessions.EndByRefreshTokenAsync(bearer, cancellationToken);
            return TypedResults.Ok(new LogoutResponse(true));
        }
        return ApiProblems.Unauthorized("Send the refresh token in the body, or a valid access token as the Bearer token.");
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> Me(
        HttpContext context, AccountsDbContext db, CancellationToken cancellationToken) =>
        await db.FindCallerAsync(context.User, cancellationToken) is { } user
            ? TypedResults.Ok(UserResponse.From(user))
            : ApiProblems.Unauthorized("This account no longer exists.");

    private static string? BearerToken(HttpRequest request) =>
        request.Headers.Authorization.ToString() is { } header && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? header["Bearer ".Length..].Trim()
            : null;

    // Refresh and logout may come without any body (seed 003 sends only the Authorization header).
    private static async Task<(T? Value, ProblemHttpResult? Problem)> ReadOptionalBodyAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        if (request.ContentLength is 0 || (request.ContentLength is null && !request.Headers.ContainsKey(HeaderNames.TransferEncoding)))
        {
            return (null, null);
        }
        try
        {
            return (await request.ReadFromJsonAsync<T>(cancellationToken), null);
        }
        catch (System.Text.Json.JsonException json)
        {
            // Described like any bound body's: a value of the wrong kind names its field, a body that breaks off says where.
            var (field, detail) = ProblemResponses.Describe(json, typeof(T));
            return (null, ApiProblems.Invalid(field, detail));
        }
        catch (InvalidOperationException)
        {
            return (null, ApiProblems.Invalid("refreshToken", "The request body must be JSON (application/json)."));
        }
    }
}
