using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Testing;

public enum GatewayService { Identity, Keys, Billing, Chat, Devices }

// The system under test: the chosen services and the edge in front of them, each on its own Kestrel
// port, wired the way the AppHost wires them, on one isolated slice of the real servers.
public sealed class GatewaySystem : IAsyncDisposable
{
    private readonly Dictionary<GatewayService, IServiceHost> _services = [];
    // Further instances of a service named more than once in StartAsync's list (services__<name>__http__1, …).
    private readonly List<(GatewayService Service, IServiceHost Host)> _replicas = [];
    private readonly List<IServiceHost> _edges = [];
    private Dictionary<string, string?> _edgeSettings = [];
    private Action<IServiceCollection>? _configureEdge;

    // Shared by the edge and the services, as the AppHost shares one per run.
    private readonly string _callerTokenKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
    // Held by the edges only, and the same for every edge of this system (their shared key cache in Redis).
    private readonly string _edgeCacheKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private GatewaySystem(IsolatedResources resources) => Resources = resources;

    public IsolatedResources Resources { get; }

    // Identity writes its mail here, as a local run writes it into <data folder>/mail/.
    public LocalMail Mail { get; } = new(Path.Combine(Path.GetTempPath(), $"gateway-tests-mail-{Guid.NewGuid():N}"));

    // Chat keeps its users' assistants' workspaces here, as a local run keeps them in <data folder>/assistants/.
    public string AssistantsDirectory { get; } = Path.Combine(Path.GetTempPath(), $"gateway-tests-assistants-{Guid.NewGuid():N}");

    public IServiceHost Edge { get; private set; } = null!;

    public IServiceHost this[GatewayService service] => _services[service];

    // Every instance of a service behind the edge, the first one first.
    public IReadOnlyList<IServiceHost> Instances(GatewayService service) =>
        [_services[service], .. _replicas.Where(r => r.Service == service).Select(r => r.Host)];

    public static readonly GatewayService[] AllServices = Enum.GetValues<GatewayService>();

    public static async Task<GatewaySystem> StartAsync(
        GatewayInfrastructure infrastructure,
        IEnumerable<GatewayService>? services = null,
        Action<GatewayService?, IServiceCollection>? configureServices = null,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var system = new GatewaySystem(await infrastructure.IsolateAsync());
        try
        {
            // Billing first: every service started after another is told where it is (services:<name>:http:<i>), as the
            // AppHost's references tell them, Identity reads the caller's balance from Billing (GET /api/user) and Chat
            // callers' provider keys from Keys.
            foreach (var service in (services ?? AllServices).OrderBy(s => s == GatewayService.Billing ? 0 : 1))
            {
                var serviceSettings = system.SettingsFor(service, settings);
                foreach (var started in system._services.Keys)
                {
                    var instances = system.Instances(started);
                    for (var i = 0; i < instances.Count; i++)
                    {
                        serviceSettings.TryAdd($"services:{Name(started)}:http:{i}", instances[i].Address.ToString().TrimEnd('/'));
                    }
                }
                var host = await StartHostAsync(() => Create(service, serviceSettings, s => configureServices?.Invoke(service, s)));
                if (!system._services.TryAdd(service, host))
                {
                    system._replicas.Add((service, host));
                }
            }

            // And every service started before another is told where that one is too, as the AppHost's references are
            // both ways (Identity shows the assistant's status from Chat; Chat reads the assistant's settings from
            // Identity): service discovery reads the address when it is first asked for.
            foreach (var (earlier, host) in system._services)
            {
                var configuration = host.Provider.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>();
                foreach (var later in system._services.Keys.Where(later => later != earlier))
                {
                    var instances = system.Instances(later);
                    for (var i = 0; i < instances.Count; i++)
                    {
                        configuration[$"services:{Name(later)}:http:{i}"] ??= instances[i].Address.ToString().TrimEnd('/');
                    }
                }
            }

            system._edgeSettings = system.SettingsFor(null, settings);
            foreach (var service in system._services.Keys)
            {
                var instances = system.Instances(service);
                for (var i = 0; i < instances.Count; i++)
                {
                    system._edgeSettings[$"services:{Name(service)}:http:{i}"] = instances[i].Address.ToString().TrimEnd('/');
                }
            }
            system._configureEdge = s => configureServices?.Invoke(null, s);
            system.Edge = await system.StartEdgeAsync();
            return system;
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }
    }

    public HttpClient CreateEdgeClient() => Edge.CreateHttpClient();

    // Another edge replica in front of the same services (its own caches and revocation queue).
    public async Task<IServiceHost> StartEdgeAsync()
    {
        var edge = await StartHostAsync(() => new ServiceHost<Edge.Proxy.ServiceDiscoveryDestinationResolver>(_edgeSettings, _configureEdge));
        _edges.Add(edge);
        return edge;
    }

    // Once in many CI runs, WebApplicationFactory's own start failed with "IServerAddressesFeature.Addresses cannot
    // be modified after the server has started" (its port set-up racing the host's start on a loaded machine);
    // a fresh host then starts. Any other failure, or a third one, is the test's.
    private static async Task<IServiceHost> StartHostAsync(Func<IServiceHost> create)
    {
        for (var attempt = 1; ; attempt++)
        {
            var host = create();
            try
            {
                await Task.Run(host.Start);
                return host;
            }
            catch (Exception ex)
            {
                try
                {
                    await host.DisposeAsync();
                }
                catch (Exception)
                {
                    // Half started: what it holds goes with the process.
                }
                if (attempt >= 3 || !ex.Message.Contains("cannot be modified after the server has started", StringComparison.Ordinal))
                {
                    throw;
                }
            }
        }
    }

    public static string Name(GatewayService service) => service.ToString().ToLowerInvariant();

    private Dictionary<string, string?> SettingsFor(GatewayService? service, IReadOnlyDictionary<string, string?>? extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:rabbitmq"] = Resources.RabbitMq,
            ["ConnectionStrings:redis"] = Resources.Redis,
            ["OTEL_SERVICE_NAME"] = service is { } s ? Name(s) : "edge",
            ["Gateway:CallerToken:Key"] = _callerTokenKey,
        };
        if (service is null)
        {
            // Tests sign many users up from one address; the rate-limit tests set their own limits.
            settings["Edge:RateLimits:Groups:default:PermitLimit"] = "100000";
            settings["Edge:RateLimits:Groups:auth:PermitLimit"] = "100000";
            settings["Edge:RateLimits:Groups:chat:PermitLimit"] = "100000";
            settings["Edge:ApiKeys:CacheKey"] = _edgeCacheKey;
        }
        if (service is { } named)
        {
            settings[$"ConnectionStrings:{Name(named)}db"] = Resources.Database($"{Name(named)}db");
            if (named == GatewayService.Identity)
            {
                settings["Identity:Mail:Directory"] = Mail.Directory;
            }
            if (named == GatewayService.Chat)
            {
                settings["Chat:Assistants:Directory"] = AssistantsDirectory;
            }
            if (named == GatewayService.Keys)
            {
                // The vault's encryption key, passed in as the AppHost passes it (a secret store in production).
                settings["Keys:Vault:EncryptionKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            }
        }
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return settings;
    }

    private static IServiceHost Create(GatewayService service, IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection> configure) =>
        service switch
        {
            GatewayService.Identity => new ServiceHost<Identity.Infrastructure.AccountsDbContext>(settings, configure),
            GatewayService.Keys => new ServiceHost<Keys.Infrastructure.KeysDbContext>(settings, configure),
            GatewayService.Billing => new ServiceHost<Billing.Infrastructure.BillingDbContext>(settings, configure),
            GatewayService.Chat => new ServiceHost<Chat.Infrastructure.ChatDbContext>(settings, configure),
            GatewayService.Devices => new ServiceHost<Devices.Infrastructure.DevicesDbContext>(settings, configure),
            _ => throw new ArgumentOutOfRangeException(nameof(service)),
        };

    public async ValueTask DisposeAsync()
    {
        foreach (var edge in _edges)
        {
            await edge.DisposeAsync();
        }
        foreach (var (_, host) in _replicas)
        {
            await host.DisposeAsync();
        }
        foreach (var host in _services.Values.Reverse())
        {
            await host.DisposeAsync();
        }
        foreach (var folder in new[] { Mail.Directory, AssistantsDirectory }.Where(Directory.Exists))
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
