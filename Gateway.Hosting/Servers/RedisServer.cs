using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Hosting.Servers;

/// <summary>Redis from Debian's package on 127.0.0.1, behind a password, its append-only file in <see cref="DataDirectory"/>.</summary>
public sealed class LocalRedisServer(string name, ParameterResource password, string dataDirectory, int port)
    : ExecutableResource(name, ServerBinaries.Require("/usr/bin/redis-server", "Redis"), dataDirectory), IResourceWithConnectionString
{
    public ParameterResource Password { get; } = password;
    public string DataDirectory { get; } = dataDirectory;
    public int Port { get; } = port;
    public EndpointReference Endpoint => new(this, "tcp");

    /// <summary>StackExchange.Redis form, as Aspire's Redis gives it.</summary>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"127.0.0.1:{Endpoint.Property(EndpointProperty.Port)},password={Password}");

    /// <summary>The configuration file holding the password's hash, so that it is never on a command line nor stored as it is.</summary>
    internal string ConfigFile => Path.Combine(DataDirectory, "redis.conf");
}

public static class RedisServerExtensions
{
    /// <summary>A Redis server named <paramref name="name"/>: the local one when running, Aspire's stock container when publishing.</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddRedisServer(this IDistributedApplicationBuilder builder, string name, int databases = 16)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return builder.AddRedis(name).WithDataVolume();
        }

        var port = FreePort.Next();
        var server = new LocalRedisServer(name, builder.AddSecret($"{name}-password").Resource, Path.Combine(builder.DataDirectory(), name), port);
        var checkKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddAsyncCheck(checkKey, ct => PingAsync(server, ct));
        return builder.AddResource(server)
            .WithArgs(server.ConfigFile, "--port", port.ToString(), "--bind", "127.0.0.1", "--dir", server.DataDirectory, "--daemonize", "no",
                "--appendonly", "yes", "--save", "", "--databases", databases.ToString(), "--logfile", "")
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck(checkKey)
            .WithRestarts()
            .OnBeforeResourceStarted(async (server, _, ct) =>
            {
                Directory.CreateDirectory(server.DataDirectory);
                File.WriteAllText(server.ConfigFile, "");
                File.SetUnixFileMode(server.ConfigFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(await server.Password.GetValueAsync(ct) ?? "")));
                await File.WriteAllTextAsync(server.ConfigFile, $"user default on #{hash} ~* &* +@all\n", ct);
            });
    }

    // AUTH then PING, in RESP: +OK and +PONG (not while the server is still loading its data).
    private static async Task<HealthCheckResult> PingAsync(LocalRedisServer server, CancellationToken ct)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", server.Port, ct);
            var stream = client.GetStream();
            var password = await server.Password.GetValueAsync(ct) ?? "";
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"*2\r\n$4\r\nAUTH\r\n${Encoding.UTF8.GetByteCount(password)}\r\n{password}\r\n*1\r\n$4\r\nPING\r\n"), ct);
            var answer = new StringBuilder();
            var buffer = new byte[256];
            while (!answer.ToString().Contains("PONG") && !answer.ToString().Contains('-'))
            {
                var read = await stream.ReadAsync(buffer, ct);
                if (read == 0) break;
                answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
            return answer.ToString().StartsWith("+OK\r\n+PONG", StringComparison.Ordinal)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"Redis answered {answer.ToString().Trim()}");
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return HealthCheckResult.Unhealthy(e.Message);
        }
    }
}
