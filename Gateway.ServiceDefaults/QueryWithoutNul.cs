using Microsoft.AspNetCore.Builder;

namespace Gateway.ServiceDefaults;

// The query string's counterpart of StringWithoutNulConverter: Postgres refuses the NUL character in text, so a query
// parameter carrying one (?search=%00) is a 400 naming the parameter, not a 500 when a handler queries with it.
public static class QueryWithoutNul
{
    public static IApplicationBuilder UseQueryWithoutNul(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        foreach (var (name, values) in context.Request.Query)
        {
            if (name.Contains('\0') || values.Any(value => value is not null && value.Contains('\0')))
            {
                var parameter = name.Replace("\0", @"\u0000", StringComparison.Ordinal);
                await ApiProblems.Invalid(parameter,
                    $"The query parameter '{parameter}' cannot contain the NUL character (%00).").ExecuteAsync(context);
                return;
            }
        }
        await next(context);
    });
}
