using System.ClientModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gateway.MockLlm;
using OpenAI.Chat;

namespace Chat.Tests;

// Public models routed to upstreams: Anthropic's Messages API through the official client, and falling back to the next
// upstream when one refuses or does not begin in time, never once the answer has begun.
public sealed class RouterTests(RouterTests.RoutedSystem routed) : IClassFixture<RouterTests.RoutedSystem>
{
    // Long enough that a loaded machine's first token is never mistaken for a silent upstream; far below the slow one's 20 s.
    private static readonly TimeSpan FirstTokenTimeout = TimeSpan.FromSeconds(4);

    private static CancellationToken Cancel => ChatSystem.Cancel;

    // One system for the class: MockLlm speaking both protocols, a second one slow to begin, and a refusing address.
    public sealed class RoutedSystem(GatewayInfrastructure infrastructure) : IAsyncLifetime
    {
        private MockLlmServer _slow = null!;

        public MockLlmServer Model { get; private set; } = null!;

        public GatewaySystem System { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            Model = await MockLlmServer.StartAsync();
            _slow = await MockLlmServer.StartAsync(new MockLlmOptions { FirstTokenLatency = TimeSpan.FromSeconds(20) });
            var settings = new Dictionary<string, string?>
            {
                ["Chat:Upstream:FirstTokenTimeout"] = FirstTokenTimeout.ToString(),
                ["Chat:Upstream:Timeout"] = "00:00:30",
                ["Chat:Providers:anthropic:Kind"] = "Anthropic",
                ["Chat:Providers:anthropic:BaseUrl"] = Model.Address.ToString().TrimEnd('/'),
                ["Chat:Providers:anthropic:ApiKey"] = "sk-ant-test",
                ["Chat:Providers:anthropic:Label"] = "anthropic",
                ["Chat:Providers:refusing:BaseUrl"] = $"http://127.0.0.1:{ClosedPort()}/v1",
                ["Chat:Providers:slow:BaseUrl"] = _slow.BaseUrl.ToString(),
                ["Chat:Models:claude:Upstreams:0:Provider"] = "anthropic",
                ["Chat:Models:claude:Upstreams:0:Model"] = "local-model",
                ["Chat:Models:failover:Upstreams:0:Provider"] = "refusing",
                ["Chat:Models:failover:Upstreams:0:Model"] = "local-model",
                ["Chat:Models:failover:Upstreams:1:Model"] = "local-model",
                ["Chat:Models:slow-first:Upstreams:0:Provider"] = "slow",
                ["Chat:Models:slow-first:Upstreams:0:Model"] = "local-model",
                ["Chat:Models:slow-first:Upstreams:1:Provider"] = "anthropic",
                ["Chat:Models:slow-first:Upstreams:1:Model"] = "local-model",
                ["Chat:Models:begun:Upstreams:0:Model"] = "local-model",
                ["Chat:Models:begun:Upstreams:1:Provider"] = "anthropic",
                ["Chat:Models:begun:Upstreams:1:Model"] = "local-model",
            };
            System = await ChatSystem.StartSystemAsync(infrastructure, Model, settings);
        }

        public async ValueTask DisposeAsync()
        {
            await System.DisposeAsync();
            await _slow.DisposeAsync();
            await Model.DisposeAsync();
        }
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task<(TestUser User, ChatClient Client)> ClientAsync(string model)
    {
        var user = await ChatSystem.UserAsync(routed.System);
        var sdk = await ChatSystem.SdkAsync(routed.System, user);
        return (user, sdk.GetChatClient(model));
    }

    [Fact]
    public async Task A_model_on_Anthropics_Messages_API_answers_streamed_and_not_and_is_charged_what_it_reported()
    {
        var (user, client) = await ClientAsync("claude");
        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Hello Claude [mock:tokens=7]")],
            new ChatCompletionOptions { MaxOutputTokenCount = 50 }, Cancel);
        var streamed = new System.Text.StringBuilder();
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Stream please [mock:tokens=5]")],
            new ChatCompletionOptions { MaxOutputTokenCount = 50 }, Cancel))
        {
            streamed.Append(string.Concat(update.ContentUpdate.Select(p => p.Text)));
        }

        Assert.Equal(7, completion.Usage.OutputTokenCount);
        Assert.False(string.IsNullOrWhiteSpace(completion.Content[0].Text));
        Assert.Equal(5, streamed.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        // Both went to the mock's Anthropic endpoint: Anthropic's body has a top-level max_tokens and no stream_options.
        Assert.Contains(routed.Model.Stats.Bodies, b => b.Contains("Hello Claude") && !b.Contains("stream_options"));
        var wallet = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance < ChatSystem.SignUpGrant);
        var charged = await Eventually.UntilAsync(() => ChatSystem.UsageEntriesAsync(user), e => e.Count == 2);
        Assert.Equal(completion.Usage.InputTokenCount + 7, -charged.Single(e => e.GetProperty("amount").GetInt64() == -(completion.Usage.InputTokenCount + 7)).GetProperty("amount").GetInt64());
        Assert.Equal(ChatSystem.SignUpGrant + charged.Sum(e => e.GetProperty("amount").GetInt64()), wallet.Balance);
    }

    [Fact]
    public async Task When_the_first_upstream_refuses_the_next_one_answers_at_once()
    {
        var (_, client) = await ClientAsync("failover");

        var stopwatch = Stopwatch.StartNew();
        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Anyone there? [mock:tokens=4]")],
            new ChatCompletionOptions { MaxOutputTokenCount = 20 }, Cancel);
        var took = stopwatch.Elapsed;

        Assert.Equal(4, completion.Usage.OutputTokenCount);
        // A refused connection is known at once: no waiting for the first-token timeout (generous for a loaded machine).
        Assert.True(took < TimeSpan.FromSeconds(5), $"Failing over took {took.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task An_upstream_that_has_not_begun_within_the_first_token_timeout_is_given_up_for_the_next()
    {
        var (_, client) = await ClientAsync("slow-first");

        var stopwatch = Stopwatch.StartNew();
        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Quickly [mock:tokens=3]")],
            new ChatCompletionOptions { MaxOutputTokenCount = 20 }, Cancel);
        var took = stopwatch.Elapsed;

        Assert.Equal(3, completion.Usage.OutputTokenCount);
        // Given up at the first-token timeout, long before the slow upstream's first token (20 s); generous for a loaded machine.
        Assert.InRange(took, FirstTokenTimeout, TimeSpan.FromSeconds(16));
    }

    [Fact]
    public async Task Once_the_answer_has_begun_a_failing_upstream_is_not_replaced_and_what_came_is_charged()
    {
        var (user, client) = await ClientAsync("begun");
        var requestsBefore = routed.Model.Stats.Requests;

        var received = 0;
        var failed = false;
        try
        {
            await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Break off [mock:tokens=10] [mock:token-ms=50] [mock:fail-after=3]")],
                new ChatCompletionOptions { MaxOutputTokenCount = 50 }, Cancel))
            {
                received += update.ContentUpdate.Count(part => part.Text.Length > 0);
            }
        }
        catch (Exception ex) when (ex is ClientResultException or IOException or HttpRequestException)
        {
            failed = true;
        }

        Assert.Equal(1, routed.Model.Stats.Requests - requestsBefore); // no second upstream was asked
        Assert.Equal(3, received);
        var charged = await Eventually.UntilAsync(() => ChatSystem.UsageEntriesAsync(user), e => e.Count == 1);
        Assert.True(-charged[0].GetProperty("amount").GetInt64() > 3);
        _ = failed; // an error event in the stream, or a broken stream: either way no more text
    }

    [Fact]
    public void A_providers_key_is_never_printed_with_its_options()
    {
        var options = new Gateway.Chat.Upstream.UpstreamOptions { BaseUrl = "https://api.example", ApiKey = "sk-very-secret" };

        Assert.DoesNotContain("sk-very-secret", options.ToString());
        Assert.Contains("https://api.example", options.ToString());
    }
}
