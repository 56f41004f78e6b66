using Microsoft.Extensions.Configuration;

namespace Gateway.Hosting;

/// <summary>A RabbitMQ broker: a local one with the management plugin, or the one in <c>ConnectionStrings__&lt;name&gt;</c> (an amqp:// URI).</summary>
public sealed class RabbitMQServerResource(string name, string? externalConnectionString) : Resource(name), IResourceWithConnectionString
{
    public string? ExternalConnectionString { get; } = externalConnectionString;
}

public static class RabbitMQBuilderExtensions
{
    public static IResourceBuilder<RabbitMQServerResource> AddRabbitMQ(this DistributedApplicationBuilder builder, string name) =>
        builder.AddResource(new RabbitMQServerResource(name, builder.Configuration.GetConnectionString(name)));
}
