using Gateway.ServiceDefaults;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Edge.Proxy;

public static class ForwarderErrors
{
    // A service the edge cannot reach got YARP's status with an empty body (so the status-code page said only
    // "Bad Gateway"); the problem now says what happened. The service's address stays out of it.
    public static IReverseProxyApplicationBuilder UseForwarderErrors(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.Use(async (context, next) =>
        {
            await next();
            if (context.Response.HasStarted || context.GetForwarderErrorFeature()?.Error is not { } error) return;
            var reason = error switch
            {
                ForwarderError.Request or ForwarderError.RequestCreation => "could not be reached or broke off before answering",
                ForwarderError.RequestTimedOut => "did not answer in time (the request may still take effect)",
                ForwarderError.NoAvailableDestinations => "has no instance available",
                _ => null, // the caller went away, or the failure came mid-body: nobody to tell
            };
            if (reason is null) return;
            await ApiProblems.Problem(context.Response.StatusCode, ReasonPhrase(context.Response.StatusCode),
                $"The service behind {context.Request.Path} {reason}. Try again shortly.").ExecuteAsync(context);
        });
        return proxy;
    }

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
