using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Bench.Edge;

// The edge as it runs in production: its own process, Release build, configured only through the
// environment names the AppHost uses; or the bare YARP forwarder it is compared with.
public sealed class EdgeProcess(Process process) : IAsyncDisposable
{
    public required string Address { get; init; }

    public int ProcessId => process.Id;

    public static Task<EdgeProcess> StartAsync(IReadOnlyDictionary<string, string> environment)
    {
        var dll = Path.Combine(RepositoryRoot(), "gateway/Yarp/bin/Release/net10.0/Gateway.Edge.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"Build the edge first: dotnet build gateway/Yarp -c Release ({dll} is missing).");
        }
        var address = $"http://127.0.0.1:{FreePort()}";
        return StartAsync(dll, [], address, "/health/liveness", environment);
    }

    // BareYarp (the framework's floor) from this program's own build, forwarding to the upstream; live once it forwards.
    public static Task<EdgeProcess> StartBareYarpAsync(string upstream, string probePath)
    {
        var address = $"http://127.0.0.1:{FreePort()}";
        return StartAsync(typeof(BareYarp).Assembly.Location, [BareYarp.Switch, upstream, address], address, probePath,
            new Dictionary<string, string> { ["DOTNET_gcServer"] = "1" }); // as the edge: the Web SDK's default, Server GC
    }

    private static async Task<EdgeProcess> StartAsync(string dll, string[] arguments, string address, string probePath, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet", [dll, .. arguments])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_URLS"] = address;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        // For trying a setting without a rebuild: BENCH_EDGE_DOTNET_gcServer=0 reaches the edge as DOTNET_gcServer=0.
        foreach (var name in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(n => n.StartsWith("BENCH_EDGE_", StringComparison.Ordinal)))
        {
            start.Environment[name["BENCH_EDGE_".Length..]] = Environment.GetEnvironmentVariable(name);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("The edge did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"edge: {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var client = new HttpClient();
        for (var i = 0; i < 100 && !process.HasExited; i++)
        {
            try
            {
                if ((await client.GetAsync(address + probePath)).IsSuccessStatusCode) return new EdgeProcess(process) { Address = address };
            }
            catch (HttpRequestException) { }
            await Task.Delay(200);
        }
        process.Kill(entireProcessTree: true);
        throw new InvalidOperationException($"{Path.GetFileName(dll)} did not become live.");
    }

    public async ValueTask DisposeAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Gateway.sln"))) folder = folder.Parent;
        return folder?.FullName ?? throw new InvalidOperationException("Run the bench from inside the repository.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
