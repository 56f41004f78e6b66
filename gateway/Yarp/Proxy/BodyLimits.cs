using System.Globalization;
using Gateway.ServiceDefaults;

namespace Gateway.Edge.Proxy;

public static class BodyLimits
{
    // A body whose declared length is over its route's MaxRequestBodySize is refused before anything is forwarded,
    // with the limit in words. (Left to Kestrel, the limit trips while YARP streams the body to the service: the
    // caller got a bare 413 and the edge logged the forwarding failure with its stack trace.) A chunked body
    // that grows past the limit is still cut off there.
    public static IReverseProxyApplicationBuilder UseBodyLimits(this IReverseProxyApplicationBuilder proxy)
    {
        // Not async: a request within its limit goes on without a state machine of its own (bench/Edge.Bench).
        proxy.Use((context, next) =>
            context.Request.ContentLength is { } length
            && context.GetReverseProxyFeature().Route.Config.MaxRequestBodySize is { } limit and > 0
            && length > limit
                ? TooLargeAsync(context, limit, length)
                : next());
        return proxy;
    }

    // The 413 with the limit in words; the length when it was declared (a chunked body is cut off past the limit,
    // ForwarderErrors).
    public static Task TooLargeAsync(HttpContext context, long limit, long? length = null)
    {
        var detail = length is { } declared
            ? string.Create(CultureInfo.InvariantCulture, $"The request body is {declared:N0} bytes; {context.Request.Path} accepts at most {limit:N0}.")
            : string.Create(CultureInfo.InvariantCulture, $"The request body is more than the {limit:N0} bytes {context.Request.Path} accepts.");
        return ApiProblems.Problem(StatusCodes.Status413PayloadTooLarge, "Request body too large", detail).ExecuteAsync(context);
    }
}
