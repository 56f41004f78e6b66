using System.Security.Claims;
using Gateway.ServiceDefaults;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Edge.Authentication;

// The edge is the only place a caller is authenticated. On every proxied request it removes whatever
// identity headers the client sent, removes API keys (services never need them), and attaches a fresh
// caller token for the authenticated caller, if there is one. Services decide what needs a caller.
public static class CallerForwarding
{
    private static readonly string[] ForgeablePrefixes = ["X-Gateway-", "X-User-", "X-Org", "X-Api-Key", "X-Caller"];

    public static IReverseProxyBuilder AddCallerForwarding(this IReverseProxyBuilder proxy) =>
        proxy.AddTransforms(transforms => transforms.AddRequestTransform(context =>
        {
            var headers = context.ProxyRequest.Headers;
            foreach (var name in headers.Select(h => h.Key).Where(IsForgeable).ToList())
            {
                headers.Remove(name);
            }
            if (headers.Authorization?.Parameter?.StartsWith(ApiKeyFormat.Prefix, StringComparison.Ordinal) == true)
            {
                headers.Authorization = null;
            }

            if (ToCaller(context.HttpContext.User) is { } caller)
            {
                var issuer = context.HttpContext.RequestServices.GetRequiredService<CallerTokenIssuer>();
                headers.TryAddWithoutValidation(CallerAuthentication.HeaderName, issuer.Issue(caller));
            }
            return ValueTask.CompletedTask;
        }));

    private static bool IsForgeable(string header) =>
        ForgeablePrefixes.Any(prefix => header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));

    private static Caller? ToCaller(ClaimsPrincipal user)
    {
        if (user.Identity?.IsAuthenticated != true || !Guid.TryParse(user.FindFirstValue("sub"), out var userId))
        {
            return null;
        }
        return new Caller(
            userId,
            Guid.TryParse(user.FindFirstValue("org"), out var org) ? org : null,
            user.FindFirstValue("role"),
            user.FindFirstValue("email"),
            user.Identity.AuthenticationType == ApiKeyFormat.Scheme ? CallerMethods.ApiKey : CallerMethods.User,
            Guid.TryParse(user.FindFirstValue("key"), out var key) ? key : null,
            Guid.TryParse(user.FindFirstValue("sid"), out var session) ? session : null);
    }
}

