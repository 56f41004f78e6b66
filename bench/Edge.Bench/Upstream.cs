using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Bench.Edge;

// The trivial endpoint every scenario ends at.
public sealed class Upstream(WebApplication app, string address) : IAsyncDisposable
{
    public string Address { get; } = address;

    public static async Task<Upstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/api/usage/ping", () => "pong");
        await app.StartAsync();
        return new Upstream(app, app.Urls.First());
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();
}
