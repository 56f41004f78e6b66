using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Authentication;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Edge.Authentication;

// Authenticates every request at the edge. A credential that was presented and refused is answered
// here with the reason; a request that presents none goes on, and the service decides whether its
// route needs a caller, except on the OpenAI-compatible API, where every route needs a key and the
// SDKs expect the edge's answer in OpenAI's error shape.
public static class CallerAuthenticationMiddleware
{
    public static IApplicationBuilder UseCallerAuthentication(this IApplicationBuilder app)
    {
        var apiKeys = app.ApplicationServices.GetRequiredService<ApiKeyAuthentication>();
        return app.Use((context, next) =>
        {
            // The edge authenticates here, once, with what the credential needs: an API key or a user's access token.
            // A request that carries neither does not go through authentication at all (bench/Edge.Bench).
            var authenticating =
                ApiKeyAuthentication.Presented(context.Request, out var alongsideAnother) is { } key
                    ? alongsideAnother
                        ? ValueTask.FromResult(AuthenticateResult.Fail(new CredentialRefusedException(
                            "Two credentials were sent, an API key in 'x-api-key' and another in 'Authorization'; send one.")))
                        : apiKeys.AuthenticateAsync(key, context.RequestAborted)
                : AccessTokens.ArePresented(context.Request) ? new ValueTask<AuthenticateResult>(context.AuthenticateAsync(AccessTokens.Scheme))
                : ValueTask.FromResult(AuthenticateResult.NoResult());
            // Not async when nothing had to be waited for (a cached key, no credential): the request goes on
            // without a state machine of this middleware's.
            return authenticating.IsCompletedSuccessfully
                ? ContinueAsync(context, next, authenticating.Result)
                : ContinueAsync(context, next, authenticating);
        });
    }

    private static async Task ContinueAsync(HttpContext context, RequestDelegate next, ValueTask<AuthenticateResult> authenticating) =>
        await ContinueAsync(context, next, await authenticating);

    private static Task ContinueAsync(HttpContext context, RequestDelegate next, AuthenticateResult result)
    {
        if (result.Succeeded)
        {
            context.User = result.Principal;
        }
        if (result.None && OpenAiErrorWriter.Applies(context.Request))
        {
            // A Bearer value that is neither our key nor a token (an OpenAI SDK sends whatever key it was given).
            return RefuseAsync(context, StatusCodes.Status401Unauthorized, context.Request.Headers.Authorization.Count > 0
                ? $"The API key is not valid: keys start with '{ApiKeyFormat.Prefix}'."
                : $"No API key was provided. Send it as 'Authorization: Bearer {ApiKeyFormat.Prefix}…' or in the 'x-api-key' header.");
        }
        if (result.Failure is not { } failure)
        {
            return next(context);
        }

        var (status, detail) = failure switch
        {
            CredentialCheckUnavailableException => (StatusCodes.Status503ServiceUnavailable, failure.Message),
            CredentialRefusedException => (StatusCodes.Status401Unauthorized, failure.Message),
            SecurityTokenExpiredException => (StatusCodes.Status401Unauthorized, "The access token has expired; refresh it."),
            _ => (StatusCodes.Status401Unauthorized, "The access token is not valid."),
        };
        return RefuseAsync(context, status, detail);
    }

    private static async Task RefuseAsync(HttpContext context, int status, string detail)
    {
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }
        else
        {
            context.Response.Headers.RetryAfter = "5";
        }
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = status == 401 ? "Unauthorized" : "Authentication unavailable", Detail = detail },
        });
    }
}
