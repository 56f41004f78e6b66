using Aspire.Hosting;

namespace Gateway.Hosting;

/// <summary>
/// The AppHost's switches (<c>--edge-url</c>, <c>--dashboard-url</c>, <c>--data</c>, <c>--upstream-url</c>, <c>--cors-origins</c>, <c>--replicas</c>,
/// <c>--services-environment</c>), each also
/// <c>GATEWAY_&lt;NAME&gt;</c> in the environment, and the dashboard's fixed local addresses that Aspire otherwise takes
/// from a launch profile (which only <c>dotnet run</c> reads; run.sh starts the built AppHost).
/// </summary>
public static class AppHostSettings
{
    public const string DefaultDashboardUrl = "http://localhost:18888";

    /// <summary>The arguments with the dashboard's addresses added, unless the environment or the arguments set them.</summary>
    public static string[] WithDashboardDefaults(string[] args)
    {
        var dashboard = new Uri(Switch(args, "dashboard-url") ?? DefaultDashboardUrl);
        var defaults = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = dashboard.ToString().TrimEnd('/'),
            // Telemetry (OTLP/gRPC) and the resource service on the next two ports.
            ["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"{dashboard.Scheme}://{dashboard.Host}:{dashboard.Port + 1}",
            ["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"{dashboard.Scheme}://{dashboard.Host}:{dashboard.Port + 2}",
            // Everything listens on this machine only; there is no development certificate to serve https with.
            ["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = (dashboard.Scheme == "http").ToString(),
            // The AppHost itself runs as under `dotnet run`: Development reads the user secrets its generated keys are
            // kept in. The services get their own environment (--services-environment).
            ["environment"] = "Development",
        };
        return [.. args, .. defaults
            .Where(d => Environment.GetEnvironmentVariable(d.Key) is null && Environment.GetEnvironmentVariable("DOTNET_" + d.Key.ToUpperInvariant()) is null && !args.Any(a => a.StartsWith($"--{d.Key}=", StringComparison.Ordinal)))
            .Select(d => $"--{d.Key}={d.Value}")];
    }

    /// <summary>
    /// Why the AppHost cannot start here, in one line, when another program already listens on one of the addresses it
    /// is told to take (the dashboard's three, the edge's); null when they are free. Aspire would otherwise fail
    /// part-way through starting, with a hundred lines of stack trace about a port the caller never named.
    /// </summary>
    public static string? TakenAddress(IDistributedApplicationBuilder builder, Uri edgeUrl)
    {
        var wanted = new (string? Url, string What)[]
        {
            (builder.Configuration["ASPNETCORE_URLS"], "the dashboard (--dashboard-url)"),
            (builder.Configuration["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"], "the dashboard's telemetry endpoint (--dashboard-url's port + 1)"),
            (builder.Configuration["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"], "the dashboard's resource service (--dashboard-url's port + 2)"),
            (edgeUrl.ToString(), "the edge (--edge-url)"),
        };
        foreach (var (url, what) in wanted)
        {
            if (url is null || !Uri.TryCreate(url.Split(';')[0], UriKind.Absolute, out var address))
            {
                continue;
            }
            var host = address.Host is "localhost" ? System.Net.IPAddress.Loopback
                : System.Net.IPAddress.TryParse(address.Host, out var ip) ? ip : System.Net.IPAddress.Any;
            try
            {
                using var listener = new System.Net.Sockets.TcpListener(host, address.Port);
                listener.Start();
            }
            catch (System.Net.Sockets.SocketException ex) when (ex.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
            {
                return $"Port {address.Port}, for {what}, is in use by another program: stop it, or choose another URL.";
            }
        }
        return null;
    }

    /// <summary><c>--name value</c> from the configuration (command line), else <c>GATEWAY_NAME</c> (environment).</summary>
    public static string? Setting(this IDistributedApplicationBuilder builder, string name) =>
        builder.Configuration[name] is { Length: > 0 } value ? value
        : builder.Configuration[EnvironmentName(name)] is { Length: > 0 } fromEnvironment ? fromEnvironment
        : null;

    private static string? Switch(string[] args, string name)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == $"--{name}" && i + 1 < args.Length) return args[i + 1];
            if (args[i].StartsWith($"--{name}=", StringComparison.Ordinal)) return args[i][(name.Length + 3)..];
        }
        return Environment.GetEnvironmentVariable(EnvironmentName(name)) is { Length: > 0 } value ? value : null;
    }

    private static string EnvironmentName(string name) => "GATEWAY_" + name.Replace('-', '_').ToUpperInvariant();
}
