using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Gateway.Hosting.Processes;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting.Servers;

public sealed record RabbitMqServerOptions(string DataDirectory, int Port = 0, int ManagementPort = 0);

/// <summary>
/// A RabbitMQ node on 127.0.0.1 with the management plugin, and its own epmd, Erlang cookie and node name, so that
/// several can run side by side and none leaves an epmd daemon behind. Everything it keeps lives in the data folder.
/// </summary>
public sealed class RabbitMqServer : IAsyncDisposable
{
    private const string Bin = "/usr/lib/rabbitmq/bin";
    /// <summary>A client for the management API, signed in as guest (loopback only).</summary>
    internal static readonly HttpClient ManagementHttp = CreateHttpClient();

    private readonly ChildProcess epmd;

    private RabbitMqServer(ChildProcess epmd, ChildProcess process, int port, int managementPort)
    {
        this.epmd = epmd;
        Process = process;
        Port = port;
        ManagementPort = managementPort;
    }

    public int Port { get; }
    public int ManagementPort { get; }
    public Uri ManagementUri => new($"http://127.0.0.1:{ManagementPort}/");
    internal ChildProcess Process { get; }

    public static async Task<RabbitMqServer> StartAsync(RabbitMqServerOptions options, ILogger logger, CancellationToken ct = default)
    {
        var server = ServerBinaries.Require($"{Bin}/rabbitmq-server", "RabbitMQ");
        var epmdBinary = ServerBinaries.Require("/usr/bin/epmd", "Erlang's epmd (rabbitmq-server)");
        var node = new Node(Path.GetFullPath(options.DataDirectory),
            Port: options.Port == 0 ? FreePort.Next() : options.Port,
            ManagementPort: options.ManagementPort == 0 ? FreePort.Next() : options.ManagementPort,
            DistributionPort: FreePort.Next(),
            EpmdPort: FreePort.Next());
        node.WriteFiles();

        void Log(string line, bool _) => logger.LogDebug("{Line}", line);
        var epmd = ChildProcess.Start(new ChildProcessOptions(epmdBinary, ["-port", node.EpmdPort.ToString(), "-address", "127.0.0.1"])
        {
            Label = "epmd",
            WorkingDirectory = node.Directory,
            Environment = node.Environment,
            OnOutput = Log,
        });
        ChildProcess? process = null;
        try
        {
            await Readiness.WaitAsync("epmd", epmd, ct => Readiness.TcpAcceptsAsync(node.EpmdPort, ct), TimeSpan.FromSeconds(20), ct);
            process = ChildProcess.Start(new ChildProcessOptions(server, [])
            {
                Label = "rabbitmq-server",
                WorkingDirectory = node.Directory,
                Environment = node.Environment,
                OnOutput = Log,
            });
            // The script exits 0 even when boot fails: judge by the node port, then by the node's own word.
            await Readiness.WaitAsync("RabbitMQ", process, ct => Readiness.TcpAcceptsAsync(node.Port, ct), TimeSpan.FromSeconds(120), ct);
            var (code, output) = await ChildProcess.RunAsync(
                new ChildProcessOptions($"{Bin}/rabbitmqctl", ["-n", node.Name, "-q", "await_startup", "--timeout", "60"])
                {
                    Label = "rabbitmqctl",
                    WorkingDirectory = node.Directory,
                    Environment = node.Environment,
                },
                TimeSpan.FromSeconds(90), ct);
            if (code != 0)
            {
                throw Readiness.Failed($"rabbitmqctl await_startup failed with code {code} ({output.Trim()})", process);
            }
            await Readiness.WaitAsync("RabbitMQ management", process, ct => ManagementAnswersAsync(node.ManagementPort, ct), TimeSpan.FromSeconds(30), ct);
            return new RabbitMqServer(epmd, process, node.Port, node.ManagementPort);
        }
        catch
        {
            if (process is not null)
            {
                await process.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(15));
            }
            await epmd.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(5));
            throw;
        }
    }

    /// <summary>amqp://guest:guest@127.0.0.1:PORT/&lt;vhost&gt;; the default vhost "/" is the empty path, as the AMQP URI spec has it.</summary>
    public Uri AmqpUri(string virtualHost = "/") =>
        new($"amqp://guest:guest@127.0.0.1:{Port}/{(virtualHost == "/" ? "" : Uri.EscapeDataString(virtualHost))}");

    /// <summary>Creates the vhost (idempotent) and gives guest full permissions on it, through the management HTTP API.</summary>
    public async Task CreateVirtualHostAsync(string virtualHost, CancellationToken ct = default)
    {
        var escaped = Uri.EscapeDataString(virtualHost);
        using var created = await ManagementHttp.PutAsync(new Uri(ManagementUri, $"api/vhosts/{escaped}"), JsonContent.Create(new { }), ct);
        created.EnsureSuccessStatusCode();
        using var granted = await ManagementHttp.PutAsync(new Uri(ManagementUri, $"api/permissions/{escaped}/guest"),
            JsonContent.Create(new { configure = ".*", write = ".*", read = ".*" }), ct);
        granted.EnsureSuccessStatusCode();
    }

    /// <summary>SIGTERM to the script (it forwards to beam.smp), then our epmd.</summary>
    public async ValueTask DisposeAsync()
    {
        await Process.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(20));
        await epmd.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(5));
    }

    internal IEnumerable<ChildProcess> Processes => [Process, epmd];

    private static async Task<bool> ManagementAnswersAsync(int port, CancellationToken ct)
    {
        try
        {
            using var response = await ManagementHttp.GetAsync($"http://127.0.0.1:{port}/api/overview", ct);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static HttpClient CreateHttpClient()
    {
        var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("guest:guest"u8.ToArray()));
        return client;
    }

    /// <summary>One node's identity and files. Its name derives from the data folder, so a restart finds its Mnesia data again.</summary>
    private sealed record Node(string Directory, int Port, int ManagementPort, int DistributionPort, int EpmdPort)
    {
        public string Name { get; } = "gateway-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Directory)))[..10] + "@localhost";

        public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?>
        {
            ["HOME"] = Path.Combine(Directory, "home"),
            ["ERL_EPMD_PORT"] = EpmdPort.ToString(),
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
            // Our epmd is already up: no Erlang VM here (node, rabbitmqctl) may try to daemonize its own.
            ["ERL_FLAGS"] = "-start_epmd false",
            ["RABBITMQ_NODENAME"] = Name,
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = Port.ToString(),
            ["RABBITMQ_DIST_PORT"] = DistributionPort.ToString(),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(Directory, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(Directory, "log"),
            ["RABBITMQ_LOGS"] = "-",
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(Directory, "rabbitmq.conf"),
            ["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(Directory, "advanced.config"),
            ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(Directory, "rabbitmq-env.conf"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(Directory, "enabled_plugins"),
            ["RABBITMQ_PID_FILE"] = Path.Combine(Directory, "rabbitmq.pid"),
            ["ERL_CRASH_DUMP"] = Path.Combine(Directory, "erl_crash.dump"),
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
        };

        public void WriteFiles()
        {
            foreach (var sub in new[] { "home", "mnesia", "log" })
            {
                System.IO.Directory.CreateDirectory(Path.Combine(Directory, sub));
            }
            File.WriteAllText(Path.Combine(Directory, "rabbitmq.conf"),
                $"""
                management.tcp.ip = 127.0.0.1
                management.tcp.port = {ManagementPort}
                log.console = true
                log.console.level = info
                """ + "\n");
            File.WriteAllText(Path.Combine(Directory, "enabled_plugins"), "[rabbitmq_management].\n");
            File.WriteAllText(Path.Combine(Directory, "rabbitmq-env.conf"), "");
        }
    }
}
