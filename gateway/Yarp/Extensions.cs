using Gateway.Edge.Authentication;
using Gateway.Edge.Proxy;
using Gateway.Edge.RateLimiting;
using Gateway.Edge.Readiness;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Yarp.ReverseProxy.ServiceDiscovery;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Edge;

public static class Extensions
{
    private const long RefusedBodyDrain = 8 * 1024 * 1024;

    public static IHostApplicationBuilder AddEdgeServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedis();

        // Every edge replica has its own temporary queues, so each one hears every key revocation and ended session.
        var instance = $"{Environment.ProcessId}-{Guid.NewGuid():N}"[..20];
        builder.AddMessaging(bus =>
        {
            bus.AddConsumer<ApiKeyRevokedConsumer>().Endpoint(endpoint =>
            {
                endpoint.InstanceId = instance;
                endpoint.Temporary = true;
            });
            bus.AddConsumer<SessionEndedConsumer>().Endpoint(endpoint =>
            {
                endpoint.InstanceId = instance;
                endpoint.Temporary = true;
            });
        });

        builder.AddCallerAuthenticationAtTheEdge();
        builder.AddCrossOrigin();

        // Routes and clusters live in configuration ("ReverseProxy"); cluster addresses are service names.
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddCallerForwarding()
            // A service's 401 (a route that needs a caller, none sent) says how to authenticate, as RFC 9110 asks.
            .AddTransforms(transforms => transforms.AddResponseTransform(context =>
            {
                if (context.HttpContext.Response.StatusCode == StatusCodes.Status401Unauthorized
                    && !context.HttpContext.Response.Headers.ContainsKey(Microsoft.Net.Http.Headers.HeaderNames.WWWAuthenticate))
                {
                    context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
                }
                return ValueTask.CompletedTask;
            }));
        builder.Services.AddSingleton<IDestinationResolver, ServiceDiscoveryDestinationResolver>();

        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section);
        builder.Services.AddSingleton<CallerRateLimiter>();
        builder.Services.AddHostedService(services => services.GetRequiredService<CallerRateLimiter>());

        builder.AddDownstreamHealthChecks();

        // Never a route's limit (each route has its own MaxRequestBodySize, which YARP applies per request): how much of
        // a body refused with 413 the edge still reads and discards, so that a client still sending gets the answer
        // rather than a reset connection. Kestrel reads no limits from a "Kestrel" section, so it is set here.
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = RefusedBodyDrain);

        // Ahead of the default writer (the first that can write a response wins): /v1/* errors in OpenAI's shape.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, OpenAiErrorWriter>());
        return builder;
    }

    // A request is authenticated by an API key or by a user's access token, whichever it carries.
    private static void AddCallerAuthenticationAtTheEdge(this IHostApplicationBuilder builder)
    {
        builder.AddCallerTokens();
        // No default scheme: CallerAuthenticationMiddleware authenticates once, with what the request's credential
        // needs (an API key, or the access token scheme), so ASP.NET Core's own authentication middleware has nothing to do.
        // With a single scheme registered ASP.NET Core would make it the default, and that middleware (added on its own)
        // would run the access-token handler on every request, keyed and anonymous ones too; this switch says not to.
        // Process-wide, which changes nothing for the services sharing a process in tests: each names its default.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        builder.Services.AddAuthentication().AddAccessTokens(builder.Configuration);
        builder.Services.AddSingleton<ApiKeyAuthentication>();

        builder.Services.AddMemoryCache();
        builder.Services.AddOptions<ApiKeyCacheOptions>().BindConfiguration(ApiKeyCacheOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ApiKeyResolver>();
        builder.Services.AddSingleton<ApiKeyUsage>();
        builder.Services.AddSingleton<EndedSessions>();
        builder.Services.AddHostedService(services => services.GetRequiredService<EndedSessions>());
        builder.Services.AddHostedService(services => services.GetRequiredService<ApiKeyUsage>());

        // On the request path: one short attempt, and a refusal (503) rather than a wait when Keys is down.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked experimental.
        builder.Services.AddHttpClient(ApiKeyResolver.KeysClient, client => client.Timeout = TimeSpan.FromSeconds(3))
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
    }
}
