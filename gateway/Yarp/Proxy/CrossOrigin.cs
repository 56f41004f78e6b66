namespace Gateway.Edge.Proxy;

// Browser apps on other origins (the seeds' Next.js and Vite dashboards) call the API directly. The origins allowed
// come from configuration (Edge:Cors:AllowedOrigins; none unless set: the AppHost allows the usual local dashboard
// ports, and "*" allows any). Preflights are answered here, before authentication and before any service. Callers
// authenticate with a header (a bearer token or an API key), never a cookie, so credentials are never allowed, and
// so neither is a wildcard ever combined with them.
public static class CrossOrigin
{
    public const string Section = "Edge:Cors";

    // What a browser app may read from an answer besides the CORS-safelisted headers.
    private static readonly string[] ExposedHeaders =
        ["Idempotent-Replayed", "Location", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"];

    public static IHostApplicationBuilder AddCrossOrigin(this IHostApplicationBuilder builder)
    {
        var origins = builder.Configuration.GetSection($"{Section}:AllowedOrigins").Get<string[]>() ?? [];
        builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy =>
        {
            if (origins.Contains("*"))
            {
                policy.AllowAnyOrigin();
            }
            else
            {
                policy.WithOrigins(origins);
            }
            // Any header and method: the OpenAI clients send their own (x-stainless-*), and nothing is sent with cookies.
            policy.AllowAnyHeader().AllowAnyMethod().WithExposedHeaders(ExposedHeaders).SetPreflightMaxAge(TimeSpan.FromMinutes(10));
        }));
        return builder;
    }
}
