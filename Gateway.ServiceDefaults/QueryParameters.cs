using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gateway.ServiceDefaults;

// What every route's query parameters must be, checked once before any handler reads them, each a 400 naming the
// parameter: sent once (no route takes a list from the query, and ?status=online&status=offline reached the handler as
// "online,offline", whose refusal named a value never sent), and without the NUL character, the query string's
// counterpart of StringWithoutNulConverter (Postgres refuses NUL in text: ?search=%00 was a 500).
public static class QueryParameters
{
    // Not async: a request that passes goes on without a state machine of its own (bench/Edge.Bench).
    public static IApplicationBuilder UseQueryParameterChecks(this IApplicationBuilder app) => app.Use((context, next) =>
        Refused(context.Request) is { } refused
            ? ApiProblems.Invalid(refused.Parameter, refused.Reason).ExecuteAsync(context)
            : next(context));

    private static (string Parameter, string Reason)? Refused(HttpRequest request)
    {
        // Only a query string with two parameters can repeat one, and only one that spells "%00" can carry NUL: Kestrel
        // refuses a raw NUL in the request line. Most requests have neither, and their query is not parsed here.
        var query = request.QueryString.Value;
        var nul = query?.Contains("%00", StringComparison.Ordinal) == true;
        if (!nul && query?.Contains('&') != true)
        {
            return null;
        }
        foreach (var (name, values) in request.Query)
        {
            if (nul && (name.Contains('\0') || values.Any(value => value is not null && value.Contains('\0'))))
            {
                var shown = name.Replace("\0", @"\u0000", StringComparison.Ordinal);
                return (shown, $"The query parameter '{shown}' cannot contain the NUL character (%00).");
            }
            if (values.Count > 1)
            {
                return (name, $"'{name}' was sent {values.Count} times; send it once.");
            }
        }
        return null;
    }
}
