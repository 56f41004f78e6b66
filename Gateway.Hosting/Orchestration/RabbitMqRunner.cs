using Gateway.Hosting.Processes;
using Gateway.Hosting.Servers;

namespace Gateway.Hosting.Orchestration;

/// <summary>Runs the local RabbitMQ (management plugin on), or hands out the external one's URI.</summary>
internal sealed class RabbitMqRunner(RabbitMQServerResource resource, string dataDirectory, ResourceOutput output)
    : ResourceRunner(resource, output), IConnectionStringSource
{
    private readonly int port = resource.ExternalConnectionString is null ? FreePort.Next() : 0;
    private readonly int managementPort = resource.ExternalConnectionString is null ? FreePort.Next() : 0;

    public override string Kind => "rabbitmq";
    public override string Endpoint => resource.ExternalConnectionString is null
        ? $"127.0.0.1:{port}, management http://127.0.0.1:{managementPort}/"
        : "external";

    public Uri? ManagementUri => resource.ExternalConnectionString is null ? new Uri($"http://127.0.0.1:{managementPort}/") : null;

    public string ConnectionStringFor(IResource target) => resource.ExternalConnectionString ?? $"amqp://guest:guest@127.0.0.1:{port}/";

    protected override async Task<RunningInstance> LaunchAsync(CancellationToken ct)
    {
        if (resource.ExternalConnectionString is not null)
        {
            return RunningInstance.External();
        }
        var server = await RabbitMqServer.StartAsync(new RabbitMqServerOptions(Path.Combine(dataDirectory, Name), port, managementPort), Logger, ct);
        return new RunningInstance(server.Process.Id, server.Process.Exited, () => server.DisposeAsync().AsTask());
    }
}
