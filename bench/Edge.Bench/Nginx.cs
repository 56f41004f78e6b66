using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Bench.Edge;

// Debian's nginx as a plain reverse proxy in front of the same upstream: the baseline for the edge.
public sealed class Nginx(Process process, string folder, string address) : IAsyncDisposable
{
    public string Address { get; } = address;

    public int ProcessId => process.Id;

    public static async Task<Nginx> StartAsync(string upstream)
    {
        var folder = Directory.CreateTempSubdirectory("gateway-bench-nginx-").FullName;
        var port = FreePort();
        var upstreamHost = new Uri(upstream).Authority;
        File.WriteAllText(Path.Combine(folder, "nginx.conf"), $$"""
            daemon off;
            master_process off;
            worker_processes 1;
            pid {{folder}}/nginx.pid;
            error_log {{folder}}/error.log warn;
            events { worker_connections 1024; }
            http {
              access_log off;
              client_body_temp_path {{folder}}/body;
              proxy_temp_path {{folder}}/proxy;
              fastcgi_temp_path {{folder}}/fastcgi;
              uwsgi_temp_path {{folder}}/uwsgi;
              scgi_temp_path {{folder}}/scgi;
              upstream app { server {{upstreamHost}}; keepalive 64; }
              server {
                listen 127.0.0.1:{{port}};
                location / {
                  proxy_pass http://app;
                  proxy_http_version 1.1;
                  proxy_set_header Connection "";
                }
              }
            }
            """);
        var process = Process.Start(new ProcessStartInfo("nginx", ["-c", Path.Combine(folder, "nginx.conf"), "-p", folder])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        }) ?? throw new InvalidOperationException("nginx did not start (apt-get install -y nginx).");
        var address = $"http://127.0.0.1:{port}";
        using var client = new HttpClient();
        for (var i = 0; i < 50; i++)
        {
            try
            {
                if ((await client.GetAsync(address + "/api/usage/ping")).StatusCode == HttpStatusCode.OK) return new Nginx(process, folder, address);
            }
            catch (HttpRequestException) { }
            await Task.Delay(100);
        }
        process.Kill();
        throw new InvalidOperationException($"nginx did not answer: {File.ReadAllText(Path.Combine(folder, "error.log"))}");
    }

    public async ValueTask DisposeAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        Directory.Delete(folder, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
