using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

// Portkey's open-source gateway (@portkey-ai/gateway on npm, installed under bench/Chat.Bench/portkey by
// run.sh) as a child process, proxying to an OpenAI-compatible upstream given per request in headers.
internal sealed class Portkey : IAsyncDisposable
{
    private readonly Process _process;

    private Portkey(Process process, Uri address) => (_process, Address) = (process, address);

    public Uri Address { get; }

    // What a Portkey client sends: the provider's wire format, where it lives (MockLlm on 127.0.0.1 is a
    // host Portkey trusts by default), and the provider's key (MockLlm takes any).
    public static Dictionary<string, string> HeadersFor(Uri upstream) => new()
    {
        ["x-portkey-provider"] = "openai",
        ["x-portkey-custom-host"] = upstream.ToString().TrimEnd('/'),
        ["Authorization"] = "Bearer mock",
    };

    public static async Task<Portkey> StartAsync(string startServerJs)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("node", [startServerJs, $"--port={port}", "--headless"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Its per-request log lines would cost it time that ours does not spend.
        start.Environment["NODE_ENV"] = "production";
        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var portkey = new Portkey(process, new Uri($"http://127.0.0.1:{port}/"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        for (var waited = Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromSeconds(30); await Task.Delay(200))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Portkey exited with {process.ExitCode} at start.");
            }
            try
            {
                using var response = await http.GetAsync(portkey.Address);
                return portkey;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
        }
        await portkey.DisposeAsync();
        throw new TimeoutException("Portkey did not answer within 30 s.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
