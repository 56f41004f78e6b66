using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting;

public static class PublicUrlExtensions
{
    /// <summary>Says on the AppHost's console where the system answers, once the resource is healthy, and how long that took.</summary>
    public static IResourceBuilder<ProjectResource> AnnouncePublicUrl(this IResourceBuilder<ProjectResource> edge, Uri url)
    {
        var clock = Stopwatch.StartNew();
        return edge.OnResourceReady((_, e, _) =>
        {
            e.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway")
                .LogInformation("Gateway is ready at {Url} (healthy {Seconds:0.0} s after start; API reference at {Url}docs)", url, clock.Elapsed.TotalSeconds, url);
            return Task.CompletedTask;
        });
    }
}
