using Gateway.Hosting.Processes;
using Gateway.Hosting.Servers;

namespace Gateway.Hosting.Orchestration;

/// <summary>Runs the local Redis, or hands out the external one's connection string.</summary>
internal sealed class RedisRunner(RedisResource resource, string dataDirectory, ResourceOutput output)
    : ResourceRunner(resource, output), IConnectionStringSource
{
    private readonly int port = resource.ExternalConnectionString is null ? FreePort.Next() : 0;

    public override string Kind => "redis";
    public override string Endpoint => resource.ExternalConnectionString is null ? $"127.0.0.1:{port}" : "external";

    public string ConnectionStringFor(IResource target) => resource.ExternalConnectionString ?? $"127.0.0.1:{port}";

    protected override async Task<RunningInstance> LaunchAsync(CancellationToken ct)
    {
        if (resource.ExternalConnectionString is not null)
        {
            return RunningInstance.External();
        }
        var server = await RedisServer.StartAsync(new RedisServerOptions(Path.Combine(dataDirectory, Name), port), Logger, ct);
        return new RunningInstance(server.Process.Id, server.Process.Exited, () => server.DisposeAsync().AsTask());
    }
}
