using Gateway.Hosting.Processes;
using Gateway.Hosting.Servers;
using Npgsql;

namespace Gateway.Hosting.Orchestration;

/// <summary>Runs the local PostgreSQL (or checks the external one) and creates the declared databases.</summary>
internal sealed class PostgresRunner(PostgresServerResource resource, string dataDirectory, ResourceOutput output)
    : ResourceRunner(resource, output), IConnectionStringSource
{
    private readonly int port = resource.ExternalConnectionString is null ? FreePort.Next() : 0;
    private string? serverConnectionString = resource.ExternalConnectionString;

    public override string Kind => "postgres";
    public override string Endpoint => resource.ExternalConnectionString is null ? $"127.0.0.1:{port}" : "external";

    public string ConnectionStringFor(IResource target) =>
        new NpgsqlConnectionStringBuilder(serverConnectionString ?? throw new InvalidOperationException($"{Name} is not ready."))
        {
            Database = target is PostgresDatabaseResource db ? db.DatabaseName : "postgres",
        }.ConnectionString;

    protected override async Task<RunningInstance> LaunchAsync(CancellationToken ct)
    {
        if (resource.ExternalConnectionString is not null)
        {
            await CreateDatabasesAsync(ct);
            return RunningInstance.External();
        }
        var server = await PostgresServer.StartAsync(new PostgresServerOptions(Path.Combine(dataDirectory, Name), port), Logger, ct);
        try
        {
            serverConnectionString = server.ConnectionString("postgres");
            await CreateDatabasesAsync(ct);
            return new RunningInstance(server.Process.Id, server.Process.Exited, () => server.DisposeAsync().AsTask());
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task CreateDatabasesAsync(CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(ConnectionStringFor(resource));
        await connection.OpenAsync(ct);
        foreach (var database in resource.Databases)
        {
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = database.DatabaseName } } };
            if (await exists.ExecuteScalarAsync(ct) is null)
            {
                // The name was checked against ^[a-z_][a-z0-9_]*$ when it was declared.
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.DatabaseName}\"", connection);
                try
                {
                    await create.ExecuteNonQueryAsync(ct);
                    Output.Event(Name, $"created database {database.DatabaseName}");
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege && resource.ExternalConnectionString is not null)
                {
                    // A managed server's user may not create databases; whoever runs it must have made this one.
                    Output.Event(Name, $"warning: cannot create database {database.DatabaseName} ({e.MessageText}); its services will fail until it exists");
                }
            }
        }
    }
}
