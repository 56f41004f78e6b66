using Microsoft.AspNetCore.Authentication;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Edge.Authentication;

// Authenticates every request at the edge. A credential that was presented and refused is answered
// here with the reason; a request that presents none goes on, and the service decides whether its
// route needs a caller.
public static class CallerAuthenticationMiddleware
{
    public static IApplicationBuilder UseCallerAuthentication(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var result = await context.AuthenticateAsync();
        if (result.Succeeded)
        {
            context.User = result.Principal;
        }
        if (result.Failure is not { } failure)
        {
            await next(context);
            return;
        }

        var (status, detail) = failure switch
        {
            CredentialCheckUnavailableException => (StatusCodes.Status503ServiceUnavailable, failure.Message),
            CredentialRefusedException => (StatusCodes.Status401Unauthorized, failure.Message),
            SecurityTokenExpiredException => (StatusCodes.Status401Unauthorized, "The access token has expired; refresh it."),
            _ => (StatusCodes.Status401Unauthorized, "The access token is not valid."),
        };
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
    });
}
