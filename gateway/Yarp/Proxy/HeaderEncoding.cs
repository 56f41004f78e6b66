using System.Text;
using Gateway.ServiceDefaults;

namespace Gateway.Edge.Proxy;

public static class HeaderEncoding
{
    // Kestrel accepts a header value in UTF-8, but HttpClient sends only ASCII ones: "Idempotency-Key: ключ" failed
    // YARP's forward and the caller got a 502 saying the service could not be reached. Refused here, naming the header
    // (forwarding UTF-8 through YARP's RequestHeaderEncoding would make every service decide what such values mean).
    public static IReverseProxyApplicationBuilder UseAsciiHeaders(this IReverseProxyApplicationBuilder proxy)
    {
        // Not async: a request with ASCII headers goes on without a state machine of its own (bench/Edge.Bench).
        proxy.Use((context, next) => NotAscii(context.Request.Headers) is { } name
            ? ApiProblems.Invalid(name,
                $"The header '{name}' must be plain ASCII text; encode other characters (for example as percent-encoded UTF-8).").ExecuteAsync(context)
            : next());
        return proxy;
    }

    // The first header with a value that is not ASCII, if any.
    private static string? NotAscii(IHeaderDictionary headers)
    {
        foreach (var (name, values) in headers)
        {
            foreach (var value in values)
            {
                if (value is not null && !Ascii.IsValid(value))
                {
                    return name;
                }
            }
        }
        return null;
    }
}
