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
            // The proxied request's headers are copies of the client's: look for forgeable names among the
            // client's (enumerating Kestrel's headers allocates nothing, HttpHeaders' enumerator allocates per header).
            var headers = context.ProxyRequest.Headers;
            foreach (var (name, _) in context.HttpContext.Request.Headers)
            {
                if (IsForgeable(name))
                {
                    headers.Remove(name);
                }
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

    private static bool IsForgeable(string header)
    {
        foreach (var prefix in ForgeablePrefixes)
        {
            if (header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    private static Caller? ToCaller(ClaimsPrincipal user)
    {
        if (user.Identity is ApiKeyIdentity key)
        {
            return key.Caller;
        }
        if (user.Identity?.IsAuthenticated != true || !Guid.TryParse(user.FindFirstValue("sub"), out var userId))
        {
            return null;
        }
        return new Caller(
            userId,
            Guid.TryParse(user.FindFirstValue("org"), out var org) ? org : null,
            user.FindFirstValue("role"),
            user.FindFirstValue("email"),
            CallerMethods.User,
            SessionId: Guid.TryParse(user.FindFirstValue("sid"), out var session) ? session : null);
    }
}

