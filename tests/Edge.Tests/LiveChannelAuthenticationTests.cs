using System.Net.WebSockets;
using System.Text;
using Gateway.ServiceDefaults;
using Gateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Edge.Tests;

// Browsers cannot put headers on a WebSocket, so the live channel takes the access token in the query.
public sealed class LiveChannelAuthenticationTests(GatewayInfrastructure infrastructure)
{
    [Fact]
    public async Task A_websocket_to_the_live_channel_is_authenticated_by_the_access_token_in_its_query()
    {
        await using var system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity, GatewayService.Devices],
            configureServices: (service, services) =>
            {
                if (service == GatewayService.Devices) services.AddSingleton<IStartupFilter, WhoAmI>();
            });
        var user = await system.RegisterUserAsync();
        var uri = new UriBuilder(system.Edge.Address) { Scheme = "ws", Path = "/api/events/whoami", Query = $"access_token={user.AccessToken}" }.Uri;
        using var socket = new ClientWebSocket();
        var ct = TestContext.Current.CancellationToken;

        await socket.ConnectAsync(uri, ct);
        var buffer = new byte[256];
        var received = await socket.ReceiveAsync(buffer, ct);

        // The service saw the caller, and never the token itself.
        Assert.Equal($"{user.UserId} query:", Encoding.UTF8.GetString(buffer, 0, received.Count));
    }

    // Answers a WebSocket at /api/events/whoami with the caller the edge forwarded and the query it got.
    private sealed class WhoAmI : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseWebSockets();
            app.Use(async (context, nextMiddleware) =>
            {
                if (context.Request.Path != "/api/events/whoami" || !context.WebSockets.IsWebSocketRequest)
                {
                    await nextMiddleware(context);
                    return;
                }
                var callerToken = context.Request.Headers[CallerAuthentication.HeaderName].ToString();
                var caller = callerToken.Length > 0 ? new JsonWebToken(callerToken).Subject : "anonymous";
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                var who = $"{caller} query:{context.Request.QueryString}";
                await socket.SendAsync(Encoding.UTF8.GetBytes(who), WebSocketMessageType.Text, true, context.RequestAborted);
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", context.RequestAborted);
            });
            next(app);
        };
    }
}
