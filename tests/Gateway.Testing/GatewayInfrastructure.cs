using Gateway.Hosting.Servers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Gateway.Testing;

// Real Postgres, Redis and RabbitMQ, started once per test assembly with the AppHost's own launchers,
// on free ports under the system temp folder. Each test class asks for its own isolated slice.
// Use with [assembly: AssemblyFixture(typeof(GatewayInfrastructure))].
public sealed class GatewayInfrastructure : IAsyncLifetime
{
    private const int RedisDatabases = 64;
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"{LeftoverServers.Prefix}{Environment.ProcessId}-{Guid.NewGuid():N}"[..32]);
    private readonly ILogger _logger = NullLogger.Instance;
    private int _nextScope;

    public PostgresServer Postgres { get; private set; } = null!;
    public RedisServer Redis { get; private set; } = null!;
    public RabbitMqServer RabbitMq { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        LeftoverServers.Reap();
        Directory.CreateDirectory(_root);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var postgres = PostgresServer.StartAsync(new PostgresServerOptions(Path.Combine(_root, "postgres")), _logger, timeout.Token);
        var redis = RedisServer.StartAsync(new RedisServerOptions(Path.Combine(_root, "redis"), Databases: RedisDatabases), _logger, timeout.Token);
        var rabbitmq = RabbitMqServer.StartAsync(new RabbitMqServerOptions(Path.Combine(_root, "rabbitmq")), _logger, timeout.Token);
        Postgres = await postgres;
        Redis = await redis;
        RabbitMq = await rabbitmq;
    }

    // A slice of the servers no other test class sees: its own databases, vhost and Redis database.
    public async Task<IsolatedResources> IsolateAsync(CancellationToken cancellationToken = default)
    {
        var scope = Interlocked.Increment(ref _nextScope);
        var name = $"t{scope}_{Guid.NewGuid():N}"[..12];
        await RabbitMq.CreateVirtualHostAsync(name, cancellationToken);
        return new IsolatedResources(this, name, scope % RedisDatabases);
    }

    public async ValueTask DisposeAsync()
    {
        // Stop in reverse order of need; each launcher kills its process tree if it hangs.
        foreach (var server in new IAsyncDisposable?[] { RabbitMq, Redis, Postgres })
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open only leaves litter in the temp folder.
        }
    }
}

public sealed record IsolatedResources(GatewayInfrastructure Infrastructure, string Name, int RedisDatabase)
{
    public string Database(string database) => Infrastructure.Postgres.ConnectionString($"{database}_{Name}");

    public string RabbitMq => Infrastructure.RabbitMq.AmqpUri(Name).ToString();

    public string Redis => $"{Infrastructure.Redis.ConnectionString},defaultDatabase={RedisDatabase}";
}
