using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Hosting.Servers;

/// <summary>
/// RabbitMQ from Debian's package on 127.0.0.1 with its management plugin, its own epmd, Erlang cookie and node name
/// (so that several run side by side and none leaves an epmd daemon behind), and one user that is not guest.
/// Everything it keeps lives in <see cref="DataDirectory"/>.
/// </summary>
public sealed class LocalRabbitMQServer(string name, ParameterResource user, ParameterResource password, string dataDirectory, RabbitMQPorts ports)
    : ExecutableResource(name, ServerBinaries.Require("/usr/lib/rabbitmq/bin/rabbitmq-server", "RabbitMQ"), dataDirectory), IResourceWithConnectionString
{
    public ParameterResource User { get; } = user;
    public ParameterResource Password { get; } = password;
    public string DataDirectory { get; } = dataDirectory;
    public RabbitMQPorts Ports { get; } = ports;
    public EndpointReference Endpoint => new(this, "tcp");
    public Uri ManagementUri => new($"http://127.0.0.1:{Ports.Management}/");

    /// <summary>The name derives from the data folder, so a restart finds its Mnesia data again.</summary>
    public string NodeName { get; } = "gateway-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dataDirectory)))[..10] + "@localhost";

    /// <summary>amqp://user:password@127.0.0.1:port (the default vhost), as Aspire's RabbitMQ gives it.</summary>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"amqp://{User}:{Password}@127.0.0.1:{Endpoint.Property(EndpointProperty.Port)}");

    /// <summary>A client for the management API, signed in as the server's user.</summary>
    public async Task<HttpClient> ManagementClientAsync(CancellationToken ct = default)
    {
        var client = new HttpClient { BaseAddress = ManagementUri, Timeout = TimeSpan.FromSeconds(10) };
        var credentials = $"{await User.GetValueAsync(ct)}:{await Password.GetValueAsync(ct)}";
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return client;
    }
}

public sealed record RabbitMQPorts(int Amqp, int Management, int Distribution, int Epmd);

public static class RabbitMQServerExtensions
{
    /// <summary>A RabbitMQ server named <paramref name="name"/>: the local one when running, Aspire's stock container when publishing.</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddRabbitMQServer(this IDistributedApplicationBuilder builder, string name)
    {
        var user = builder.AddParameter($"{name}-user", "gateway");
        if (builder.ExecutionContext.IsPublishMode)
        {
            return builder.AddRabbitMQ(name, user, builder.AddParameter($"{name}-password", secret: true)).WithManagementPlugin().WithDataVolume();
        }

        var directory = Path.Combine(builder.DataDirectory(), name);
        var ports = new RabbitMQPorts(FreePort.Next(), FreePort.Next(), FreePort.Next(), FreePort.Next());
        var server = new LocalRabbitMQServer(name, user.Resource, builder.AddSecret($"{name}-password").Resource, directory, ports);
        var environment = Environment(server);

        // Its own epmd in the foreground: otherwise the first Erlang VM daemonizes one that outlives everything.
        var epmdCheck = $"{name}-epmd_check";
        builder.Services.AddHealthChecks().AddAsyncCheck(epmdCheck, ct => AcceptsAsync(ports.Epmd, ct));
        var epmd = builder.AddExecutable($"{name}-epmd", ServerBinaries.Require("/usr/bin/epmd", "Erlang's epmd (rabbitmq-server)"), "/",
                "-port", ports.Epmd.ToString(), "-address", "127.0.0.1")
            .WithEnvironment("ERL_EPMD_PORT", ports.Epmd.ToString())
            .WithHealthCheck(epmdCheck)
            .WithRestarts();

        var checkKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddAsyncCheck(checkKey, ct => ListensAsync(server, ct));
        var rabbitmq = builder.AddResource(server)
            .WithEndpoint(port: ports.Amqp, targetPort: ports.Amqp, scheme: "tcp", name: "tcp", isProxied: false)
            .WithEndpoint(port: ports.Management, targetPort: ports.Management, scheme: "http", name: "management", isProxied: false)
            .WithHealthCheck(checkKey)
            .WaitFor(epmd)
            .WithRestarts()
            .OnBeforeResourceStarted(async (server, _, ct) => await WriteFilesAsync(server, ct))
            .OnResourceReady(async (server, _, ct) => await RemoveGuestAsync(server, ct));
        foreach (var (variable, value) in environment)
        {
            rabbitmq.WithEnvironment(variable, value);
        }
        epmd.WithParentRelationship(rabbitmq);
        return rabbitmq;
    }

    private static Dictionary<string, string> Environment(LocalRabbitMQServer server)
    {
        var directory = server.DataDirectory;
        return new()
        {
            ["HOME"] = Path.Combine(directory, "home"),
            ["ERL_EPMD_PORT"] = server.Ports.Epmd.ToString(),
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
            // Our epmd is already up: no Erlang VM here may try to daemonize its own.
            ["ERL_FLAGS"] = "-start_epmd false",
            ["RABBITMQ_NODENAME"] = server.NodeName,
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = server.Ports.Amqp.ToString(),
            ["RABBITMQ_DIST_PORT"] = server.Ports.Distribution.ToString(),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(directory, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(directory, "log"),
            ["RABBITMQ_LOGS"] = "-",
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(directory, "rabbitmq.conf"),
            ["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(directory, "advanced.config"),
            ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(directory, "rabbitmq-env.conf"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(directory, "enabled_plugins"),
            ["RABBITMQ_PID_FILE"] = Path.Combine(directory, "rabbitmq.pid"),
            ["ERL_CRASH_DUMP"] = Path.Combine(directory, "erl_crash.dump"),
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
            // The script then execs the Erlang VM instead of waiting on it as a child: otherwise it exits 0 when the VM
            // is killed alone, which reads as a deliberate stop and nothing starts RabbitMQ again. The VM stops gracefully
            // on SIGTERM either way; without NOTIFY_SOCKET nothing else changes.
            ["RUNNING_UNDER_SYSTEMD"] = "true",
        };
    }

    // The user comes from a definitions file imported at every boot, so the password parameter is the one truth;
    // the file holds only the password's salted hash, as RabbitMQ stores it.
    private static async Task WriteFilesAsync(LocalRabbitMQServer server, CancellationToken ct)
    {
        var directory = server.DataDirectory;
        foreach (var sub in new[] { "home", "mnesia", "log" })
        {
            Directory.CreateDirectory(Path.Combine(directory, sub));
        }
        var user = await server.User.GetValueAsync(ct);
        var definitions = new
        {
            users = new[] { new { name = user, password_hash = PasswordHash(await server.Password.GetValueAsync(ct) ?? ""), hashing_algorithm = "rabbit_password_hashing_sha256", tags = new[] { "administrator" } } },
            vhosts = new[] { new { name = "/" } },
            permissions = new[] { new { user, vhost = "/", configure = ".*", write = ".*", read = ".*" } },
        };
        var definitionsFile = Path.Combine(directory, "definitions.json");
        File.WriteAllText(definitionsFile, "");
        File.SetUnixFileMode(definitionsFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllTextAsync(definitionsFile, JsonSerializer.Serialize(definitions), ct);
        await File.WriteAllTextAsync(Path.Combine(directory, "rabbitmq.conf"),
            $"""
            management.tcp.ip = 127.0.0.1
            management.tcp.port = {server.Ports.Management}
            load_definitions = {definitionsFile}
            log.console = true
            log.console.level = warning
            """ + "\n", ct);
        await File.WriteAllTextAsync(Path.Combine(directory, "enabled_plugins"), "[rabbitmq_management].\n", ct);
        await File.WriteAllTextAsync(Path.Combine(directory, "rabbitmq-env.conf"), "", ct);
    }

    // RabbitMQ's rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++ password)), a 4-byte salt.
    private static string PasswordHash(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(4);
        return Convert.ToBase64String([.. salt, .. SHA256.HashData([.. salt, .. Encoding.UTF8.GetBytes(password)])]);
    }

    // A fresh node seeds guest/guest before it imports the definitions; nobody may sign in as guest.
    private static async Task RemoveGuestAsync(LocalRabbitMQServer server, CancellationToken ct)
    {
        using var management = await server.ManagementClientAsync(ct);
        using var _ = await management.DeleteAsync("api/users/guest", ct);
    }

    // The management API's own check that the AMQP listener is up; an AMQP-header probe would be logged as a
    // broken connection at every health check.
    private static async Task<HealthCheckResult> ListensAsync(LocalRabbitMQServer server, CancellationToken ct)
    {
        try
        {
            using var management = await server.ManagementClientAsync(ct);
            using var response = await management.GetAsync($"api/health/checks/port-listener/{server.Ports.Amqp}", ct);
            return response.IsSuccessStatusCode ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy($"The management API answered {(int)response.StatusCode}.");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy(e.Message);
        }
    }

    private static async Task<HealthCheckResult> AcceptsAsync(int port, CancellationToken ct)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port, ct);
            return HealthCheckResult.Healthy();
        }
        catch (SocketException e)
        {
            return HealthCheckResult.Unhealthy(e.Message);
        }
    }
}
