using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using Gateway.MockLlm;
using OpenAI.Chat;

namespace Chat.Tests;

// Bring your own key: a provider configured with VaultSecret is called with the caller's own API key from their vault
// (seed 002's "secure vault for API keys"); a caller without one is routed past it, or refused before anything is held.
public sealed class OwnProviderKeyTests(OwnProviderKeyTests.OwnKeySystem system) : IClassFixture<OwnProviderKeyTests.OwnKeySystem>
{
    private const string SecretName = "OPENAI_API_KEY";
    private const string OwnKey = "sk-proj-callers-own-key-42";

    private static CancellationToken Cancel => ChatSystem.Cancel;

    // MockLlm as the operator's model, and a second one that, as a real provider, answers only the caller's key.
    public sealed class OwnKeySystem(GatewayInfrastructure infrastructure) : IAsyncLifetime
    {
        public MockLlmServer Model { get; private set; } = null!;

        public MockLlmServer Provider { get; private set; } = null!;

        public GatewaySystem System { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            Model = await MockLlmServer.StartAsync();
            Provider = await MockLlmServer.StartAsync(new MockLlmOptions { ApiKey = OwnKey });
            System = await ChatSystem.StartSystemAsync(infrastructure, Model, new()
            {
                ["Chat:Upstream:FirstTokenTimeout"] = "00:00:05",
                ["Chat:Upstream:Timeout"] = "00:00:30",
                ["Chat:Providers:own:BaseUrl"] = Provider.BaseUrl.ToString(),
                ["Chat:Providers:own:VaultSecret"] = SecretName,
                ["Chat:Providers:own:Label"] = "OpenAI",
                ["Chat:Models:own-key:Upstreams:0:Provider"] = "own",
                ["Chat:Models:own-key:Upstreams:0:Model"] = "local-model",
                ["Chat:Models:own-key:InputPrice"] = "0",
                ["Chat:Models:own-key:OutputPrice"] = "1",
                ["Chat:Models:own-key-or-ours:Upstreams:0:Provider"] = "own",
                ["Chat:Models:own-key-or-ours:Upstreams:0:Model"] = "local-model",
                ["Chat:Models:own-key-or-ours:Upstreams:1:Model"] = "local-model",
            });
        }

        public async ValueTask DisposeAsync()
        {
            await System.DisposeAsync();
            await Provider.DisposeAsync();
            await Model.DisposeAsync();
        }
    }

    private async Task<(TestUser User, ChatClient Client)> CallerAsync(string model, string? ownKey)
    {
        var user = await ChatSystem.UserAsync(system.System);
        if (ownKey is not null)
        {
            using var stored = await user.Client.PostAsJsonAsync("/api/vault", new { key = SecretName, value = ownKey }, Cancel);
            Assert.Equal(HttpStatusCode.Created, stored.StatusCode);
        }
        var sdk = await ChatSystem.SdkAsync(system.System, user);
        return (user, sdk.GetChatClient(model));
    }

    [Fact]
    public async Task A_caller_with_their_key_in_the_vault_is_served_by_their_provider_with_it_and_charged_the_models_price()
    {
        var (user, client) = await CallerAsync("own-key", OwnKey);
        var before = system.Provider.Stats.Requests;

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("With my own key [mock:tokens=6]")],
            new ChatCompletionOptions { MaxOutputTokenCount = 20 }, Cancel);

        Assert.Equal(6, completion.Usage.OutputTokenCount);
        Assert.Equal(before + 1, system.Provider.Stats.Requests); // the provider that accepts only the caller's key answered
        var charged = await Eventually.UntilAsync(() => ChatSystem.UsageEntriesAsync(user), e => e.Count == 1);
        Assert.Equal(-6, charged.Single().GetProperty("amount").GetInt64()); // this model's prices: output only
    }

    [Fact]
    public async Task Without_the_secret_the_model_is_refused_with_where_to_put_the_key_and_nothing_is_held_or_charged()
    {
        var (user, client) = await CallerAsync("own-key", ownKey: null);
        // Another caller's key is theirs alone.
        await CallerAsync("own-key", OwnKey);

        var refused = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("No key [mock:tokens=3]")],
            new ChatCompletionOptions { MaxOutputTokenCount = 20 }, Cancel));
        using var asChat = await user.Client.PostAsJsonAsync("/api/chat", new { message = "No key either", model = "own-key" }, Cancel);

        Assert.Equal(403, refused.Status);
        Assert.Contains($"store it in your vault as '{SecretName}'", refused.Message);
        Assert.Equal(HttpStatusCode.Forbidden, asChat.StatusCode);
        var wallet = await ChatSystem.BalanceAsync(user);
        Assert.Equal((ChatSystem.SignUpGrant, 0), (wallet.Balance, wallet.Held));
        Assert.Empty(await ChatSystem.UsageEntriesAsync(user));
    }

    [Fact]
    public async Task A_model_with_our_upstream_after_the_callers_serves_callers_without_a_key_there_and_a_wrong_key_falls_back_too()
    {
        var (_, keyless) = await CallerAsync("own-key-or-ours", ownKey: null);
        var (_, wrongKey) = await CallerAsync("own-key-or-ours", "sk-not-the-right-one");
        var (_, ownKey) = await CallerAsync("own-key-or-ours", OwnKey);
        var before = (Model: system.Model.Stats.Requests, Provider: system.Provider.Stats.Requests);

        foreach (var client in new[] { keyless, wrongKey, ownKey })
        {
            ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Whoever answers [mock:tokens=2]")],
                new ChatCompletionOptions { MaxOutputTokenCount = 20 }, Cancel);
            Assert.Equal(2, completion.Usage.OutputTokenCount);
        }

        // The keyless caller never reached the caller-key provider; the wrong key was refused there (401) and fell back.
        Assert.Equal(before.Model + 2, system.Model.Stats.Requests);
        Assert.Equal(before.Provider + 1, system.Provider.Stats.Requests); // counts only the requests it accepted
    }
}
