using Gateway.Hosting.Processes;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gateway.Hosting.Servers;

public sealed record PostgresServerOptions(string DataDirectory, int Port = 0);

/// <summary>A PostgreSQL server on 127.0.0.1 only (no unix socket), its data kept in <see cref="PostgresServerOptions.DataDirectory"/>.</summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly PostgresCluster cluster;

    private PostgresServer(ChildProcess process, PostgresCluster cluster, int port)
    {
        Process = process;
        this.cluster = cluster;
        Port = port;
    }

    public int Port { get; }
    internal ChildProcess Process { get; }

    public static async Task<PostgresServer> StartAsync(PostgresServerOptions options, ILogger logger, CancellationToken ct = default)
    {
        var postgres = ServerBinaries.PostgresBin("postgres");
        var account = PostgresAccount.Current();
        var cluster = await PostgresCluster.PrepareAsync(options.DataDirectory, account, logger, ct);
        var port = options.Port == 0 ? FreePort.Next() : options.Port;

        var command = account.Command(postgres,
            ["-D", cluster.Directory, "-p", port.ToString(), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"],
            "postgres");
        var process = ChildProcess.Start(command with { OnOutput = (line, _) => logger.LogDebug("{Line}", line) });
        var server = new PostgresServer(process, cluster, port);
        try
        {
            await Readiness.WaitAsync("PostgreSQL", process, server.AnswersAsync, TimeSpan.FromSeconds(60), ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>An Npgsql connection string for <paramref name="database"/> as the superuser.</summary>
    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Password={cluster.Password};Database={database}";

    /// <summary>Fast shutdown (SIGINT: clients are disconnected, data is flushed); killed if it hangs.</summary>
    public async ValueTask DisposeAsync()
    {
        await Process.StopAsync(Signals.SIGINT, TimeSpan.FromSeconds(10));
    }

    private async Task<bool> AnswersAsync(CancellationToken ct)
    {
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false;Timeout=2");
            await connection.OpenAsync(ct);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return false;
        }
    }
}
