using System.Net.Sockets;
using System.Text;
using Gateway.Hosting.Processes;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting.Servers;

public sealed record RedisServerOptions(string DataDirectory, int Port = 0, int Databases = 16);

/// <summary>A Redis server on 127.0.0.1 with its append-only file in <see cref="RedisServerOptions.DataDirectory"/>.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private RedisServer(ChildProcess process, int port)
    {
        Process = process;
        Port = port;
    }

    public int Port { get; }
    /// <summary>StackExchange.Redis form: "127.0.0.1:PORT".</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";
    internal ChildProcess Process { get; }

    public static async Task<RedisServer> StartAsync(RedisServerOptions options, ILogger logger, CancellationToken ct = default)
    {
        var redis = ServerBinaries.Require("/usr/bin/redis-server", "Redis");
        var directory = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(directory);
        var port = options.Port == 0 ? FreePort.Next() : options.Port;

        var process = ChildProcess.Start(new ChildProcessOptions(redis,
            ["--port", port.ToString(), "--bind", "127.0.0.1", "--dir", directory, "--daemonize", "no",
             "--appendonly", "yes", "--save", "", "--databases", options.Databases.ToString(), "--logfile", ""])
        {
            Label = "redis-server",
            WorkingDirectory = directory,
            OnOutput = (line, _) => logger.LogDebug("{Line}", line),
        });
        var server = new RedisServer(process, port);
        try
        {
            await Readiness.WaitAsync("Redis", process, ct => PingAsync(port, ct), TimeSpan.FromSeconds(60), ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGTERM: Redis flushes its append-only file and exits.</summary>
    public async ValueTask DisposeAsync()
    {
        await Process.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(10));
    }

    /// <summary>True when the server answers PING with PONG (not while it is still loading its data).</summary>
    internal static async Task<bool> PingAsync(int port, CancellationToken ct)
    {
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(TimeSpan.FromSeconds(2));
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port, limit.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), limit.Token);
            var buffer = new byte[64];
            var read = await stream.ReadAsync(buffer, limit.Token);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }
}
