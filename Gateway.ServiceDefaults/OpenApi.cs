using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.ServiceDefaults;

// Each service describes its own endpoints at /openapi/v1.json for the edge to merge (docs/api-reference.md).
// The document is reachable only inside the system: the edge routes no public path to it.
public static class OpenApi
{
    public const string DocumentPath = "/openapi/v1.json";

    // Paths the edge never routes publicly stay out of the description, whichever service maps them.
    private static readonly string[] PrivatePrefixes = ["internal/", ".well-known/", "health/", "openapi/"];

    public static IHostApplicationBuilder AddOpenApiDocument(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOpenApi(options =>
        {
            var includedByDefault = options.ShouldInclude;
            options.ShouldInclude = description =>
                includedByDefault(description)
                && !PrivatePrefixes.Any(prefix => (description.RelativePath ?? "").StartsWith(prefix, StringComparison.OrdinalIgnoreCase));
        });
        return builder;
    }

    public static WebApplication MapOpenApiDocument(this WebApplication app)
    {
        app.MapOpenApi(); // /openapi/{documentName}.json, so DocumentPath for the one document "v1"
        return app;
    }
}
