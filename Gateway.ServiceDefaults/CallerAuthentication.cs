using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

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

    // Whether an endpoint's policies take only a person signed in with an access token (each requires the caller's method
    // to be "user": UserPolicy, Devices' member and manager policies), so an API key is refused there: its 401 and its
    // description in the API reference offer the access token alone.
    public static async Task<bool> TakesOnlyPeopleAsync(IEnumerable<object> metadata, IServiceProvider services)
    {
        var policies = services.GetService<IAuthorizationPolicyProvider>();
        foreach (var name in metadata.OfType<IAuthorizeData>().Select(a => a.Policy).OfType<string>())
        {
            if (policies is not null && await policies.GetPolicyAsync(name) is { } policy
                && policy.Requirements.OfType<ClaimsAuthorizationRequirement>().Any(r =>
                    r.ClaimType == CallerClaims.Method && r.AllowedValues?.SequenceEqual([CallerMethods.User]) == true))
            {
                return true;
            }
        }
        return false;
    }

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
                    // The edge passes on a credential that is neither a key nor an access token (a device's, for its own
                    // routes; anything else not shaped like a token): on a route for people it is named, not ignored as if
                    // nothing had been sent.
                    OnChallenge = async context =>
                    {
                        context.HandleResponse();
                        var sent = context.Request.Headers.Authorization.ToString();
                        var endpoint = context.HttpContext.GetEndpoint();
                        var orAKey = endpoint is not null && await TakesOnlyPeopleAsync(endpoint.Metadata, context.HttpContext.RequestServices)
                            ? "; an API key cannot do this"
                            : " or an API key (x-api-key)";
                        await WriteProblemAsync(context.HttpContext, StatusCodes.Status401Unauthorized,
                            sent.Length == 0 ? $"Sign in first: send an access token (Authorization: Bearer …){orAKey}."
                            : sent.StartsWith("Bearer dvc_", StringComparison.OrdinalIgnoreCase)
                                ? $"The credential in 'Authorization' is not a person's (a device's token is taken only by a device's own routes): send a signed-in user's access token{orAKey}."
                            : $"The credential in 'Authorization' is not valid: it is neither an access token nor an API key. Send a signed-in user's access token (Authorization: Bearer …){orAKey}.");
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
