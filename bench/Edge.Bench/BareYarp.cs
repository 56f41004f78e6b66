using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Bench.Edge;

// The framework's floor (issue 22): YARP forwarding every path to the upstream and nothing else — no authentication,
// caller tokens, rate limits, body limits, health checks or telemetry — on the same host defaults as the edge
// (WebApplication.CreateBuilder, Server GC, Production). Run as its own process by this program
// (`Edge.Bench --bare-yarp <upstream> <address>`), so its CPU per request is read as the edge's is.
public static class BareYarp
{
    public const string Switch = "--bare-yarp";

    public static async Task RunAsync(string upstream, string address)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls(address);
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "all", ClusterId = "upstream", Match = new RouteMatch { Path = "/{**catch-all}" } }],
            [new ClusterConfig { ClusterId = "upstream", Destinations = new Dictionary<string, DestinationConfig> { ["upstream"] = new() { Address = upstream } } }]);
        var app = builder.Build();
        app.MapReverseProxy();
        await app.RunAsync();
    }
}
