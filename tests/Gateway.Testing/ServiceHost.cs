using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Testing;

// One service running in the test process on a real Kestrel port, configured only through the same
// settings the AppHost passes (connection strings, services__*), so HTTP between services is real.
public sealed class ServiceHost<TEntryPoint> : WebApplicationFactory<TEntryPoint>, IServiceHost
    where TEntryPoint : class
{
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _configureServices;

    public ServiceHost(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? configureServices = null)
    {
        _settings = settings;
        _configureServices = configureServices;
        UseKestrel(0);
    }

    public Uri Address { get; private set; } = null!;

    public IServiceProvider Provider => Services;

    public void Start()
    {
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        Address = new Uri(addresses.First().Replace("[::]", "127.0.0.1").Replace("0.0.0.0", "127.0.0.1"));
    }

    public HttpClient CreateHttpClient() => new() { BaseAddress = Address };

    private static string? ProjectDirectory(string assemblyName)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Gateway.sln")))
        {
            root = root.Parent;
        }
        return root is null
            ? null
            : new[] { "services", "gateway" }
                .Select(folder => Path.Combine(root.FullName, folder))
                .Where(Directory.Exists)
                .SelectMany(folder => Directory.EnumerateDirectories(folder))
                .FirstOrDefault(project => File.Exists(Path.Combine(project, assemblyName + ".csproj")));
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        // The service's own folder, so its appsettings.json is read whichever program hosts it (tests, bench).
        if (ProjectDirectory(typeof(TEntryPoint).Assembly.GetName().Name!) is { } contentRoot)
        {
            builder.UseContentRoot(contentRoot);
        }
        builder.UseSetting("urls", "http://127.0.0.1:0");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        if (_configureServices is not null)
        {
            builder.ConfigureServices(_configureServices);
        }
    }
}

public interface IServiceHost : IAsyncDisposable, IStartable
{
    Uri Address { get; }
    IServiceProvider Provider { get; }
    HttpClient CreateHttpClient();
}

public interface IStartable
{
    void Start();
}
