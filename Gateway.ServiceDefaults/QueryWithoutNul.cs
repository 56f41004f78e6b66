using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gateway.ServiceDefaults;

// The query string's counterpart of StringWithoutNulConverter: Postgres refuses the NUL character in text, so a query
// parameter carrying one (?search=%00) is a 400 naming the parameter, not a 500 when a handler queries with it.
public static class QueryWithoutNul
{
    // Not async: a request without one goes on without a state machine of its own (bench/Edge.Bench).
    public static IApplicationBuilder UseQueryWithoutNul(this IApplicationBuilder app) => app.Use((context, next) =>
        NulParameter(context.Request) is { } parameter
            ? ApiProblems.Invalid(parameter, $"The query parameter '{parameter}' cannot contain the NUL character (%00).").ExecuteAsync(context)
            : next(context));

    // Only a query string that spells "%00" can carry one: Kestrel refuses a raw NUL in the request line.
    private static string? NulParameter(HttpRequest request)
    {
        if (request.QueryString.Value?.Contains("%00", StringComparison.Ordinal) != true)
        {
            return null;
        }
        foreach (var (name, values) in request.Query)
        {
            if (name.Contains('\0') || values.Any(value => value is not null && value.Contains('\0')))
            {
                return name.Replace("\0", @"\u0000", StringComparison.Ordinal);
            }
        }
        return null;
    }
}
