using Gateway.ServiceDefaults;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Edge.Proxy;

public static class ForwarderErrors
{
    // A service the edge cannot reach got YARP's status with an empty body (so the status-code page said only
    // "Bad Gateway"); the problem now says what happened. The service's address stays out of it. The log gets the
    // failure as RepeatedFailures words it (YARP's own entry, a stack trace per request, is quieted in appsettings.json),
    // unless it was the caller who went away.
    public static IReverseProxyApplicationBuilder UseForwarderErrors(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.Use(async (context, next) =>
        {
            await next();
            var failures = context.RequestServices.GetRequiredService<RepeatedFailures>();
            if (context.GetForwarderErrorFeature() is not { Error: var error and not ForwarderError.None } failure)
            {
                if (failures.AnyFailing) failures.Recovered(Forwarding(context));
                return;
            }
            if (!CallerWentAway(error))
            {
                failures.Record(Forwarding(context), Reason(error, failure.Exception));
            }
            if (context.Response.HasStarted) return;
            // A chunked body that grew past its route's limit (a declared one is refused before forwarding, BodyLimits).
            if (context.Response.StatusCode == StatusCodes.Status413PayloadTooLarge
                && context.GetReverseProxyFeature().Route.Config.MaxRequestBodySize is { } limit)
            {
                await BodyLimits.TooLargeAsync(context, limit);
                return;
            }
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

    private static string Forwarding(HttpContext context) => $"Forwarding to {context.GetReverseProxyFeature().Cluster.Config.ClusterId}";

    private static bool CallerWentAway(ForwarderError error) => error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled
        or ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient
        or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeRequestClient
        or ForwarderError.UpgradeResponseCanceled or ForwarderError.UpgradeResponseClient;

    // The socket's words when there was one (connection refused, reset), else what YARP says went wrong.
    private static string Reason(ForwarderError error, Exception? exception) => error switch
    {
        _ when exception is not null && RepeatedFailures.Reason(exception) is var words && words != exception.GetType().Name => words,
        ForwarderError.RequestTimedOut => "timed out",
        ForwarderError.NoAvailableDestinations => "no instance available",
        ForwarderError.ResponseBodyDestination => "the response broke off",
        ForwarderError.RequestBodyDestination => "the service stopped reading the request body",
        ForwarderError.UpgradeRequestDestination or ForwarderError.UpgradeResponseDestination => "the upgraded connection broke off",
        _ when exception is HttpRequestException { HttpRequestError: HttpRequestError.ResponseEnded } => "the connection closed before a response",
        _ => error.ToString(),
    };

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
