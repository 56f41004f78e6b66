using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.MockLlm;

namespace Chat.Tests;

// Identity, Keys, Billing, Chat, Devices (for generations' live events) and the edge on this class's own databases
// and vhost, with MockLlm as the model provider (a real local HTTP server in this process).
public sealed class ChatSystem(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    public const long SignUpGrant = 1000;
    public static readonly TimeSpan UpstreamTimeout = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan GenerationProgressInterval = TimeSpan.FromMilliseconds(200);

    public GatewaySystem System { get; private set; } = null!;
    public MockLlmServer Model { get; private set; } = null!;

    public static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        Model = await MockLlmServer.StartAsync();
        System = await StartSystemAsync(infrastructure, Model, new() { ["Chat:GenerationProgressInterval"] = GenerationProgressInterval.ToString() },
            [GatewayService.Devices]);
    }

    public static Task<GatewaySystem> StartSystemAsync(
        GatewayInfrastructure infrastructure, MockLlmServer model, Dictionary<string, string?>? extra = null, GatewayService[]? moreServices = null,
        Action<GatewayService?, Microsoft.Extensions.DependencyInjection.IServiceCollection>? configureServices = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Billing:Ledger:SignUpGrant"] = SignUpGrant.ToString(),
            ["Chat:Upstream:BaseUrl"] = model.BaseUrl.ToString(),
            ["Chat:Upstream:Label"] = "local model",
            ["Chat:Upstream:Timeout"] = UpstreamTimeout.ToString(),
            ["Chat:Reservations:HoldFor"] = "00:01:00",
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }
        return GatewaySystem.StartAsync(infrastructure,
            [GatewayService.Identity, GatewayService.Keys, GatewayService.Billing, GatewayService.Chat, .. moreServices ?? []], configureServices, settings);
    }

    public async ValueTask DisposeAsync()
    {
        await System.DisposeAsync();
        await Model.DisposeAsync();
    }

    // A signed-up user whose sign-up grant has arrived.
    public Task<TestUser> UserAsync() => UserAsync(System);

    public static async Task<TestUser> UserAsync(GatewaySystem system)
    {
        var user = await system.RegisterUserAsync();
        await Eventually.UntilAsync(() => BalanceAsync(user), b => b.Balance == SignUpGrant, TimeSpan.FromSeconds(30));
        return user;
    }

    public Task<string> ApiKeyAsync(TestUser user) => NewKeyAsync(user);

    private static async Task<string> NewKeyAsync(TestUser user)
    {
        using var response = await user.Client.PostAsJsonAsync("/api/keys", new { name = "sdk" }, Cancel);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("key").GetString()!;
    }

    // The official OpenAI client for the edge's /v1 with a new sk_live_ key of the user's; it never retries.
    public static async Task<OpenAI.OpenAIClient> SdkAsync(GatewaySystem system, TestUser user) =>
        new(new System.ClientModel.ApiKeyCredential(await NewKeyAsync(user)), new OpenAI.OpenAIClientOptions
        {
            Endpoint = new Uri(system.Edge.Address, "v1"),
            RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0),
        });

    public static async Task<Wallet> BalanceAsync(TestUser user) =>
        (await user.Client.GetFromJsonAsync<Wallet>("/api/tokens/balance", Cancel))!;

    // The user's charges for model use, newest first.
    public static async Task<List<JsonElement>> UsageEntriesAsync(TestUser user)
    {
        var history = await user.Client.GetFromJsonAsync<JsonElement>("/api/tokens/history?limit=100", Cancel);
        return history.GetProperty("data").EnumerateArray().Where(e => e.GetProperty("type").GetString() == "usage").ToList();
    }

    public static HttpRequestMessage ChatRequest(object body, bool json = false, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = JsonContent.Create(body) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(json ? "application/json" : "text/event-stream"));
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        return request;
    }
}

public sealed record Wallet(long Balance, long Held, long Available);

public sealed record ServerSentEvent(string Name, JsonElement Data);

// Reads "event:"/"data:" blocks as they arrive.
public static class ServerSentEvents
{
    public static async IAsyncEnumerable<ServerSentEvent> ReadAsync(Stream stream)
    {
        using var reader = new StreamReader(stream);
        string? name = null;
        string? data = null;
        while (await reader.ReadLineAsync(ChatSystem.Cancel) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line[6..];
            }
            else if (line.Length == 0 && data is not null)
            {
                yield return new ServerSentEvent(name ?? "message", JsonDocument.Parse(data).RootElement.Clone());
                (name, data) = (null, null);
            }
        }
    }
}
