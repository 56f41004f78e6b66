using System.ClientModel;
using System.Collections.Concurrent;
using System.Net.Http.Json;
using Gateway.MockLlm;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;

namespace Chat.Tests;

// Chat's connections to the edge are cut mid-answer, as when its process dies: the client must see an error,
// never a stream that merely stops as if it had finished.
public sealed class CrashedStreamTests(GatewayInfrastructure infrastructure)
{
    private static CancellationToken Cancel => ChatSystem.Cancel;

    // Chat's requests in flight, so the test can cut their connections the way a crash does.
    private sealed class InFlight : IStartupFilter
    {
        public ConcurrentDictionary<HttpContext, bool> Requests { get; } = new();

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                Requests[context] = true;
                try
                {
                    await nextMiddleware(context);
                }
                finally
                {
                    Requests.TryRemove(context, out _);
                }
            });
            next(app);
        };
    }

    [Fact]
    public async Task A_stream_cut_off_behind_the_edge_ends_in_an_error_for_the_OpenAI_SDK()
    {
        await using var model = await MockLlmServer.StartAsync();
        var inFlight = new InFlight();
        await using var system = await GatewaySystem.StartAsync(infrastructure,
            [GatewayService.Identity, GatewayService.Keys, GatewayService.Billing, GatewayService.Chat],
            (service, services) =>
            {
                if (service == GatewayService.Chat)
                {
                    services.AddSingleton<IStartupFilter>(inFlight);
                }
            },
            new Dictionary<string, string?> { ["Billing:Ledger:SignUpGrant"] = "1000", ["Chat:Upstream:BaseUrl"] = model.BaseUrl.ToString() });
        var user = await ChatSystem.UserAsync(system);
        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "sdk" }, Cancel);
        var key = (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Cancel)).GetProperty("key").GetString()!;
        var client = new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Endpoint = new Uri(system.Edge.Address, "v1"),
            RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0),
        }).GetChatClient("local-model");

        var received = 0;
        Exception? error = null;
        try
        {
            await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Slowly [mock:tokens=100] [mock:token-ms=30]")],
                new ChatCompletionOptions { MaxOutputTokenCount = 200 }, Cancel))
            {
                if (update.ContentUpdate.Count > 0 && ++received == 3)
                {
                    foreach (var request in inFlight.Requests.Keys)
                    {
                        request.Abort();
                    }
                }
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }

        // The edge resets the client's connection ("Connection reset by peer"), which every HTTP client reports.
        Assert.True(error is IOException or HttpRequestException or ClientResultException, $"The stream ended without an error after {received} pieces: {error}");
    }
}
