using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Gateway.Hosting.Servers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit;

namespace Gateway.Testing;

// Real Postgres, Redis and RabbitMQ, started once per test assembly by Aspire with the AppHost's own resources,
// on free ports under the system temp folder. Each test class asks for its own isolated slice.
// Use with [assembly: AssemblyFixture(typeof(GatewayInfrastructure))].
public sealed class GatewayInfrastructure : IAsyncLifetime
{
    private const int RedisDatabases = 64;
    private int _nextScope;
    private LocalServers _servers = null!;

    public string Postgres { get; private set; } = "";
    public string Redis { get; private set; } = "";
    public LocalRabbitMQServer RabbitMq { get; private set; } = null!;
    public string RabbitMqUri { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        _servers = await LocalServers.StartAsync(builder =>
        {
            builder.AddPostgresServer("postgres");
            builder.AddRedisServer("redis", RedisDatabases);
            builder.AddRabbitMQServer("rabbitmq");
        });
        Postgres = await _servers.ConnectionStringAsync("postgres");
        Redis = await _servers.ConnectionStringAsync("redis");
        RabbitMq = _servers.Resource<LocalRabbitMQServer>("rabbitmq");
        RabbitMqUri = await _servers.ConnectionStringAsync("rabbitmq");
    }

    // A slice of the servers no other test class sees: its own databases, vhost and Redis database.
    public async Task<IsolatedResources> IsolateAsync(CancellationToken cancellationToken = default)
    {
        var scope = Interlocked.Increment(ref _nextScope);
        var name = $"t{scope}_{Guid.NewGuid():N}"[..12];
        await CreateVirtualHostAsync(RabbitMq, name, cancellationToken);
        return new IsolatedResources(this, name, scope % RedisDatabases);
    }

    /// <summary>Creates the vhost (idempotent) and gives the server's user full permissions on it, through the management API.</summary>
    public static async Task CreateVirtualHostAsync(LocalRabbitMQServer server, string virtualHost, CancellationToken ct = default)
    {
        using var management = await server.ManagementClientAsync(ct);
        var escaped = Uri.EscapeDataString(virtualHost);
        using var created = await management.PutAsync($"api/vhosts/{escaped}", JsonContent.Create(new { }), ct);
        created.EnsureSuccessStatusCode();
        using var granted = await management.PutAsync($"api/permissions/{escaped}/{Uri.EscapeDataString(await server.User.GetValueAsync(ct) ?? "")}",
            JsonContent.Create(new { configure = ".*", write = ".*", read = ".*" }), ct);
        granted.EnsureSuccessStatusCode();
    }

    public ValueTask DisposeAsync() => _servers.DisposeAsync();
}

public sealed record IsolatedResources(GatewayInfrastructure Infrastructure, string Name, int RedisDatabase)
{
    public string Database(string database) => $"{Infrastructure.Postgres};Database={database}_{Name}";

    public string RabbitMq => $"{Infrastructure.RabbitMqUri.TrimEnd('/')}/{Uri.EscapeDataString(Name)}";

    public string Redis => $"{Infrastructure.Redis},defaultDatabase={RedisDatabase}";
}

/// <summary>
/// Servers run by Aspire (its orchestrator, no dashboard) from the AppHost's own resource definitions, their data in a
/// folder of the system temp folder that goes with them. Stop and Start go through the resources' own commands.
/// </summary>
public sealed class LocalServers : IAsyncDisposable
{
    private readonly DistributedApplication _app;
    private readonly string _root;

    private LocalServers(DistributedApplication app, string root) => (_app, _root) = (app, root);

    public static async Task<LocalServers> StartAsync(Action<IDistributedApplicationBuilder> declare, CancellationToken ct = default)
    {
        var root = Directory.CreateTempSubdirectory("gateway-tests-").FullName;
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101); // the postgres user must enter it
        string Secret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        string[] args = ["--data", root, $"--Parameters:postgres-password={Secret()}", $"--Parameters:redis-password={Secret()}", $"--Parameters:rabbitmq-password={Secret()}"];
        // The AppHost's assembly says where Aspire's orchestrator (DCP) is.
        var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions
        {
            Args = args,
            AssemblyName = "Gateway.AppHost",
            DisableDashboard = true,
        });
        declare(builder);
        var app = builder.Build();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        await app.StartAsync(timeout.Token);
        foreach (var resource in builder.Resources.OfType<IResourceWithConnectionString>().Where(r => r is not IResourceWithParent))
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(resource.Name, timeout.Token);
        }
        return new LocalServers(app, root);
    }

    public T Resource<T>(string name) where T : IResource =>
        _app.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<T>().Single(r => r.Name == name);

    public async Task<string> ConnectionStringAsync(string name) =>
        await Resource<IResourceWithConnectionString>(name).GetConnectionStringAsync() ?? throw new InvalidOperationException($"{name} has no connection string.");

    /// <summary>Stops the server as the dashboard's Stop does; it keeps its port and data.</summary>
    public async Task StopAsync(string name, CancellationToken ct = default)
    {
        await _app.ResourceCommands.ExecuteCommandAsync(name, KnownResourceCommands.StopCommand, ct);
        await _app.ResourceNotifications.WaitForResourceAsync(name, [KnownResourceStates.Exited, KnownResourceStates.Finished], ct);
    }

    public async Task StartAsync(string name, CancellationToken ct = default)
    {
        await _app.ResourceCommands.ExecuteCommandAsync(name, KnownResourceCommands.StartCommand, ct);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync(name, ct);
    }

    public async Task WaitForStateAsync(string name, params string[] states) =>
        await _app.ResourceNotifications.WaitForResourceAsync(name, states, TestContext.Current.CancellationToken);

    public async Task WaitHealthyAsync(string name) =>
        await _app.ResourceNotifications.WaitForResourceHealthyAsync(name, TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        // The orchestrator stops Postgres with SIGTERM, a smart shutdown that waits for every client to leave: this
        // process's idle pooled connections would hold it until the postmaster is killed, which leaves its background
        // writer and autovacuum launcher behind.
        NpgsqlConnection.ClearAllPools();
        await _app.StopAsync();
        await _app.DisposeAsync();
        // Whatever still runs in the data folder goes with it: a killed postmaster's helpers, once the folder is deleted,
        // retry their failing work every second and never notice that the postmaster is gone.
        StopProcessesIn(_root);
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file still held open only leaves litter in the temp folder.
        }
    }

    private static void StopProcessesIn(string root)
    {
        foreach (var process in Process.GetProcesses())
        {
            using (process)
            {
                try
                {
                    var folder = new FileInfo($"/proc/{process.Id}/cwd").LinkTarget;
                    if (folder is not null && (folder == root || folder.StartsWith(root + "/", StringComparison.Ordinal)))
                    {
                        process.Kill();
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // Gone already, or not ours to read.
                }
            }
        }
    }
}
