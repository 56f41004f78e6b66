using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Gateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace ServiceDefaults.Tests;

public sealed class EdgeRoutingTests(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    private readonly ConcurrentDictionary<GatewayService, ConcurrentQueue<string>> _seen = new();
    private GatewaySystem _system = null!;

    public async ValueTask InitializeAsync() =>
        _system = await GatewaySystem.StartAsync(infrastructure, settings: ServiceDefaultsSettings.With(), configureServices: (service, services) =>
        {
            if (service is { } s)
            {
                services.AddSingleton<IStartupFilter>(new Recorder(_seen.GetOrAdd(s, _ => new())));
            }
        });

    public ValueTask DisposeAsync() => _system.DisposeAsync();

    [Theory]
    [InlineData("/api/auth/me", GatewayService.Identity)]
    [InlineData("/api/organization/profile", GatewayService.Identity)]
    [InlineData("/api/users?search=a", GatewayService.Identity)]
    [InlineData("/api/user", GatewayService.Identity)]
    [InlineData("/api/keys", GatewayService.Keys)]
    [InlineData("/api/vault/1", GatewayService.Keys)]
    [InlineData("/api/user/api-key", GatewayService.Keys)]
    [InlineData("/api/tokens/balance", GatewayService.Billing)]
    [InlineData("/api/credits/history", GatewayService.Billing)]
    [InlineData("/api/usage?days=7", GatewayService.Billing)]
    [InlineData("/api/billing/portal", GatewayService.Billing)]
    [InlineData("/api/chat/sessions", GatewayService.Chat)]
    [InlineData("/v1/models", GatewayService.Chat)]
    [InlineData("/api/icons", GatewayService.Chat)]
    [InlineData("/api/generations", GatewayService.Chat)]
    [InlineData("/api/generations/0190e6b2-0000-7000-8000-000000000000/stream", GatewayService.Chat)]
    [InlineData("/api/telegram/connect", GatewayService.Chat)]
    [InlineData("/api/devices", GatewayService.Devices)]
    [InlineData("/api/customer-sessions/alerts", GatewayService.Devices)]
    [InlineData("/api/organization/device-health", GatewayService.Devices)]
    [InlineData("/api/organization/billing", GatewayService.Billing)]
    public async Task A_public_route_reaches_its_service(string url, GatewayService expected)
    {
        // The OpenAI-compatible API refuses a caller without credentials at the edge; elsewhere the service decides.
        using var edge = url.StartsWith("/v1/", StringComparison.Ordinal) ? (await _system.RegisterUserAsync()).Client : _system.CreateEdgeClient();

        using var response = await edge.GetAsync(url, TestContext.Current.CancellationToken);

        var path = url.Split('?')[0];
        Assert.NotEqual(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains(path, _seen.GetValueOrDefault(expected) ?? []);
        foreach (var other in GatewaySystem.AllServices.Where(s => s != expected))
        {
            Assert.DoesNotContain(path, _seen.GetValueOrDefault(other) ?? []);
        }
    }

    [Fact]
    public async Task An_unknown_route_is_a_404_problem_from_the_edge()
    {
        using var edge = _system.CreateEdgeClient();

        using var response = await edge.GetAsync("/api/nothing-here", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.All(_seen.Values, paths => Assert.DoesNotContain("/api/nothing-here", paths));
    }

    [Fact]
    public async Task A_websocket_passes_through_the_edge()
    {
        using var socket = new ClientWebSocket();
        var uri = new UriBuilder(_system.Edge.Address) { Scheme = "ws", Path = "/api/events/echo" }.Uri;
        var ct = TestContext.Current.CancellationToken;

        await socket.ConnectAsync(uri, ct);
        await socket.SendAsync(Encoding.UTF8.GetBytes("ping"), WebSocketMessageType.Text, true, ct);
        var buffer = new byte[64];
        var received = await socket.ReceiveAsync(buffer, ct);

        Assert.Equal("echo: ping", Encoding.UTF8.GetString(buffer, 0, received.Count));
        Assert.Contains("/api/events/echo", _seen[GatewayService.Devices]);
    }

    // Notes each path a service receives; on Devices it also answers a WebSocket echo at /api/events/echo.
    private sealed class Recorder(ConcurrentQueue<string> seen) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseWebSockets();
            app.Use(async (context, nextMiddleware) =>
            {
                seen.Enqueue(context.Request.Path);
                if (context.Request.Path == "/api/events/echo" && context.WebSockets.IsWebSocketRequest)
                {
                    await EchoAsync(context);
                    return;
                }
                await nextMiddleware(context);
            });
            next(app);
        };

        private static async Task EchoAsync(HttpContext context)
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[64];
            var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
            var reply = Encoding.UTF8.GetBytes("echo: " + Encoding.UTF8.GetString(buffer, 0, received.Count));
            await socket.SendAsync(reply, WebSocketMessageType.Text, true, context.RequestAborted);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", context.RequestAborted);
        }
    }
}
