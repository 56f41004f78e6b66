using Gateway.Edge.Readiness;
using Gateway.Edge.Proxy;
using Gateway.ServiceDefaults;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Gateway.Edge;

public static class Extensions
{
    public static IHostApplicationBuilder AddEdgeServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedis();
        builder.AddMessaging();

        // Routes and clusters live in configuration ("ReverseProxy"); cluster addresses are service names.
        builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
        builder.Services.AddSingleton<IDestinationResolver, ServiceDiscoveryDestinationResolver>();

        builder.AddDownstreamHealthChecks();
        return builder;
    }
}
