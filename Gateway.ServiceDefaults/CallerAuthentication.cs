using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.ServiceDefaults;

// How a service knows who is calling without trusting the client: the edge authenticates the caller
// (a user's access token or an API key), strips every identity header the client sent, and forwards a
// caller token it signed moments ago in X-Gateway-Caller. Services accept only that token, so a request
// that reaches a service without passing the edge is 401. The key is shared by the edge and the services
// (HMAC-SHA256) and never leaves them; see docs/caller-identity.md.
public static class CallerAuthentication
{
    // The authorization policy of routes that take a signed-in user and refuse API keys (403, worded below).
    public const string UserPolicy = "user";

    public const string Scheme = "Gateway";
    public const string HeaderName = "X-Gateway-Caller";
    public const string Issuer = "gateway-edge";
    public const string Audience = "gateway-services";

    // The edge's half: the key and the issuer of caller tokens.
    private static async Task WriteProblemAsync(HttpContext context, int status, string detail)
    {
        context.Response.StatusCode = status;
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = status == StatusCodes.Status401Unauthorized ? "Unauthorized" : "Forbidden", Detail = detail },
        });
    }

    public static IHostApplicationBuilder AddCallerTokens(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CallerTokenOptions>()
            .BindConfiguration(CallerTokenOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<CallerTokenIssuer>();
        return builder;
    }

    // A service's half: the caller is whoever the edge's token names, and nobody without one.
    public static IHostApplicationBuilder AddCallerAuthentication(this IHostApplicationBuilder builder)
    {
        builder.AddCallerTokens();
        builder.Services.AddAuthentication(Scheme)
            .AddJwtBearer(Scheme, options =>
            {
                options.MapInboundClaims = false;
                options.Events = new JwtBearerEvents
                {
                    OnMessageReceived = context =>
                    {
                        if (context.Request.Headers[HeaderName] is [{ Length: > 0 } token])
                        {
                            context.Token = token;
                        }
                        else
                        {
                            context.NoResult();
                        }
                        return Task.CompletedTask;
                    },
                    OnChallenge = async context =>
                    {
                        context.HandleResponse();
                        await WriteProblemAsync(context.HttpContext, StatusCodes.Status401Unauthorized,
                            "Sign in first: send an access token (Authorization: Bearer …) or an API key (x-api-key) to the gateway.");
                    },
                    // Routes that manage the account (keys, devices) take a signed-in user, not one of their keys; a
                    // route whose rule is not a role says which it is (ForbiddenMessage).
                    OnForbidden = context =>
                        WriteProblemAsync(context.HttpContext, StatusCodes.Status403Forbidden,
                            context.HttpContext.User.FindFirst(CallerClaims.Method)?.Value == CallerMethods.ApiKey
                                ? "API keys cannot do this: send a signed-in user's access token (Authorization: Bearer …) instead."
                                : context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<ForbiddenMessage>()?.Text ?? "Your role does not allow this."),
                };
            });
        builder.Services.AddOptions<JwtBearerOptions>(Scheme)
            .Configure<IOptions<CallerTokenOptions>>((options, caller) =>
                options.TokenValidationParameters = CallerTokenIssuer.ValidationParameters(caller.Value));
        // Managing an account (keys, the vault, members, invitations, the organisation) takes a person signed in with an
        // access token, never one of their API keys: a leaked key cannot keep itself alive or take the account over.
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(UserPolicy, policy => policy.RequireClaim(CallerClaims.Method, CallerMethods.User));
        return builder;
    }
}

// What a 403 on an endpoint says when its rule is not the caller's role: .WithMetadata(new ForbiddenMessage("…")).
public sealed record ForbiddenMessage(string Text);

public sealed record CallerTokenOptions
{
    // It holds a secret: printed (ToString, a log line) by its name only.
    public override string ToString() => nameof(CallerTokenOptions);

    public const string Section = "Gateway:CallerToken";

    [Required, MinLength(32, ErrorMessage = "Gateway:CallerToken:Key must be at least 32 characters of random text.")]
    public string Key { get; init; } = "";

    public TimeSpan Lifetime { get; init; } = TimeSpan.FromMinutes(1);
}

// Who the edge says is calling. Method is "user" (access token) or "api_key".
// SessionId is the sign-in session of an access token, so Identity can end it at logout.
public sealed record Caller(Guid UserId, Guid? OrganizationId, string? Role, string? Email, string Method, Guid? ApiKeyId = null, Guid? SessionId = null);

public sealed class CallerTokenIssuer(IOptions<CallerTokenOptions> options)
{
    private const int MaxRemembered = 100_000;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly SigningCredentials _credentials = new(Key(options.Value), SecurityAlgorithms.HmacSha256);

    // A token names its caller and is valid for Lifetime, so the same caller reuses it for half that life
    // rather than paying a signature on every proxied request. Keyed by the caller record's value.
    private readonly ConcurrentDictionary<Caller, (string Token, DateTime RenewAt)> _issued = new();
    private static readonly Caller Edge = new(Guid.Empty, null, null, null, CallerMethods.Service);

    // The edge's own identity for internal calls (e.g. resolving an API key).
    public string IssueForService() => Issue(Edge);

    public string Issue(Caller caller)
    {
        var now = DateTime.UtcNow;
        if (_issued.TryGetValue(caller, out var issued) && now < issued.RenewAt)
        {
            return issued.Token;
        }
        if (_issued.Count > MaxRemembered)
        {
            _issued.Clear(); // callers come and go; at worst a token is signed again
        }
        var token = Sign(caller, now);
        _issued[caller] = (token, now.Add(options.Value.Lifetime / 2));
        return token;
    }

    private string Sign(Caller caller, DateTime now)
    {
        var claims = new Dictionary<string, object>
        {
            [CallerClaims.UserId] = caller.UserId.ToString(),
            [CallerClaims.Method] = caller.Method,
        };
        if (caller.OrganizationId is { } org) claims[CallerClaims.OrganizationId] = org.ToString();
        if (caller.Role is { } role) claims[CallerClaims.Role] = role;
        if (caller.Email is { } email) claims[CallerClaims.Email] = email;
        if (caller.ApiKeyId is { } key) claims[CallerClaims.ApiKeyId] = key.ToString();
        if (caller.SessionId is { } session) claims[CallerClaims.SessionId] = session.ToString();

        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = CallerAuthentication.Issuer,
            Audience = CallerAuthentication.Audience,
            IssuedAt = now,
            NotBefore = now.AddSeconds(-5),
            Expires = now.Add(options.Value.Lifetime),
            Claims = claims,
            SigningCredentials = _credentials,
        });
    }

    internal static TokenValidationParameters ValidationParameters(CallerTokenOptions options) => new()
    {
        ValidIssuer = CallerAuthentication.Issuer,
        ValidAudience = CallerAuthentication.Audience,
        IssuerSigningKey = Key(options),
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ClockSkew = TimeSpan.FromSeconds(5),
        NameClaimType = CallerClaims.UserId,
        RoleClaimType = CallerClaims.Role,
    };

    private static SymmetricSecurityKey Key(CallerTokenOptions options) => new(Encoding.UTF8.GetBytes(options.Key));
}

public static class CallerMethods
{
    public const string User = "user";
    public const string ApiKey = "api_key";
    public const string Service = "service";
}

public static class CallerClaims
{
    public const string UserId = "sub";
    public const string OrganizationId = "org";
    public const string Role = "role";
    public const string Email = "email";
    public const string Method = "amr";
    public const string ApiKeyId = "key";
    public const string SessionId = "sid";
}

public static class CallerPrincipal
{
    // Only called behind RequireAuthorization(), where the edge's token always carries the user.
    public static Guid GetUserId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(CallerClaims.UserId) ?? throw new InvalidOperationException("The caller has no user id."));

    public static Guid? GetOrganizationId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(CallerClaims.OrganizationId), out var id) ? id : null;

    public static string? GetRole(this ClaimsPrincipal user) => user.FindFirstValue(CallerClaims.Role);

    // The sign-in session of a caller who came with an access token; null for an API key.
    public static Guid? GetSessionId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(CallerClaims.SessionId), out var id) ? id : null;
}
