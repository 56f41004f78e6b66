using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gateway.Hosting.Servers;

/// <summary>PostgreSQL from Debian's package, run as the `postgres` user on 127.0.0.1, its cluster in <see cref="DataDirectory"/>.</summary>
public sealed class LocalPostgresServer(string name, string command, ParameterResource password, string dataDirectory, int port)
    : ExecutableResource(name, command, "/"), IResourceWithConnectionString
{
    public ParameterResource Password { get; } = password;
    public string DataDirectory { get; } = dataDirectory;
    public int Port { get; } = port;
    public EndpointReference Endpoint => new(this, "tcp");
    public List<LocalPostgresDatabase> Databases { get; } = [];

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"Host=127.0.0.1;Port={Endpoint.Property(EndpointProperty.Port)};Username=postgres;Password={Password}");
}

/// <summary>A database of a <see cref="LocalPostgresServer"/>, created when the server is ready.</summary>
public sealed class LocalPostgresDatabase(string name, string databaseName, LocalPostgresServer parent)
    : Resource(name), IResourceWithParent<LocalPostgresServer>, IResourceWithConnectionString
{
    public string DatabaseName { get; } = databaseName;
    public LocalPostgresServer Parent { get; } = parent;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Parent};Database={DatabaseName}");
}

public static class PostgresServerExtensions
{
    /// <summary>
    /// A PostgreSQL server named <paramref name="name"/>: when running, the local one; when publishing, Aspire's stock
    /// container. Either way its databases and connection strings have the same names.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddPostgresServer(this IDistributedApplicationBuilder builder, string name)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return builder.AddPostgres(name).WithDataVolume();
        }

        var account = PostgresAccount.Current();
        var password = builder.AddSecret($"{name}-password");
        var port = FreePort.Next();
        var (command, arguments) = account.Command(ServerBinaries.PostgresBin("postgres"),
            ["-D", Path.Combine(builder.DataDirectory(), name), "-p", port.ToString(),
             "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"]);
        var server = new LocalPostgresServer(name, command, password.Resource, Path.Combine(builder.DataDirectory(), name), port);
        var checkKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddAsyncCheck(checkKey, ct => AnswersAsync(server, "postgres", ct));

        return builder.AddResource(server)
            .WithArgs(arguments)
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck(checkKey)
            .WithRestarts()
            .OnBeforeResourceStarted(async (server, e, ct) =>
            {
                var logger = e.Services.GetRequiredService<ResourceLoggerService>().GetLogger(server);
                await PostgresCluster.PrepareAsync(server.DataDirectory, await server.Password.GetValueAsync(ct) ?? "", account, logger, ct);
            })
            .OnResourceReady(async (server, e, ct) => await CreateDatabasesAsync(server, e.Services, ct));
    }

    /// <summary>A database on the server, with the server's connection string plus its name.</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddDatabase(this IResourceBuilder<IResourceWithConnectionString> server, string name)
    {
        if (server.Resource is PostgresServerResource)
        {
            return PostgresBuilderExtensions.AddDatabase((IResourceBuilder<PostgresServerResource>)server, name);
        }
        var local = (LocalPostgresServer)server.Resource;
        var database = new LocalPostgresDatabase(name, name, local);
        local.Databases.Add(database);
        var checkKey = $"{name}_check";
        server.ApplicationBuilder.Services.AddHealthChecks().AddAsyncCheck(checkKey, ct => AnswersAsync(local, name, ct));
        return server.ApplicationBuilder.AddResource(database)
            .WithInitialState(new CustomResourceSnapshot { ResourceType = "PostgresDatabase", Properties = [] })
            .WithHealthCheck(checkKey)
            .WithParentState();
    }

    private static async Task CreateDatabasesAsync(LocalPostgresServer server, IServiceProvider services, CancellationToken ct)
    {
        var logger = services.GetRequiredService<ResourceLoggerService>().GetLogger(server);
        // Without pooling: an idle pooled connection of the AppHost's would hold up the server's smart shutdown.
        await using var connection = new NpgsqlConnection(await server.ConnectionStringExpression.GetValueAsync(ct) + ";Pooling=false");
        await connection.OpenAsync(ct);
        foreach (var database in server.Databases)
        {
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = database.DatabaseName } } };
            if (await exists.ExecuteScalarAsync(ct) is null)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.DatabaseName}\"", connection);
                await create.ExecuteNonQueryAsync(ct);
                logger.LogInformation("Created database {Database}", database.DatabaseName);
            }
        }
    }

    private static async Task<HealthCheckResult> AnswersAsync(LocalPostgresServer server, string database, CancellationToken ct)
    {
        try
        {
            var connectionString = new NpgsqlConnectionStringBuilder(await server.ConnectionStringExpression.GetValueAsync(ct))
            {
                Database = database, Pooling = false, Timeout = 3,
            };
            await using var connection = new NpgsqlConnection(connectionString.ConnectionString);
            await connection.OpenAsync(ct);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy(e.Message);
        }
    }
}
