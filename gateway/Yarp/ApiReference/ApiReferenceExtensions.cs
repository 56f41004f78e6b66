using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace Gateway.Edge.ApiReference;

// The public API reference: /openapi.json merges every service's document, /docs renders it (Scalar).
public static class ApiReferenceExtensions
{
    public const string DocumentPath = "/openapi.json";

    public static IHostApplicationBuilder AddApiReference(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiReferenceOptions>().BindConfiguration(ApiReferenceOptions.Section);
        builder.Services.AddSingleton<MergedOpenApiDocument>();

        // Each service answers from memory; one that is down is left out rather than waited for.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked experimental.
        builder.Services.AddHttpClient(MergedOpenApiDocument.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(5))
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        return builder;
    }

    public static WebApplication MapApiReference(this WebApplication app)
    {
        app.MapGet(DocumentPath, async (HttpContext context, MergedOpenApiDocument document, IOptions<ApiReferenceOptions> options) =>
            TypedResults.Text(await document.WriteAsync(PublicUrl(context, options.Value), context.RequestAborted), "application/json"))
            .ExcludeFromDescription();

        // Scalar's bundle is embedded in the package and served from /docs/scalar.js; nothing is fetched
        // from its CDN (fonts, telemetry, the AI agent and MCP are off), and its own toolbar (deploy, share, generate an
        // SDK: Scalar's services, shown on localhost by default) is hidden.
        app.MapScalarApiReference("/docs", options => options
            .WithTitle("Gateway API")
            .WithOpenApiRoutePattern(DocumentPath)
            .DisableDefaultFonts()
            .DisableTelemetry()
            .DisableAgent()
            .DisableMcp()
            .HideDeveloperTools()
            .AddPreferredSecuritySchemes(MergedOpenApiDocument.BearerScheme, MergedOpenApiDocument.ApiKeyScheme))
            .ExcludeFromDescription();

        return app;
    }

    // The address callers use: configured when the edge sits behind another proxy, else the request's own.
    private static string PublicUrl(HttpContext context, ApiReferenceOptions options) =>
        options.PublicUrl?.TrimEnd('/') ?? $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}";
}
