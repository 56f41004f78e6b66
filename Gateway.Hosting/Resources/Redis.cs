using Microsoft.Extensions.Configuration;

namespace Gateway.Hosting;

/// <summary>A Redis server: a local one under the data folder, or the one in <c>ConnectionStrings__&lt;name&gt;</c>.</summary>
public sealed class RedisResource(string name, string? externalConnectionString) : Resource(name), IResourceWithConnectionString
{
    public string? ExternalConnectionString { get; } = externalConnectionString;
}

public static class RedisBuilderExtensions
{
    public static IResourceBuilder<RedisResource> AddRedis(this DistributedApplicationBuilder builder, string name) =>
        builder.AddResource(new RedisResource(name, builder.Configuration.GetConnectionString(name)));
}
