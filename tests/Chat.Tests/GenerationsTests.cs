using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;

namespace Chat.Tests;

// Page generations (seed 004): a flat price per format, held before the model starts, charged only for code of the
// asked format; streamed as it is written; the owner's alone (another user's is 404); progress on the owner's socket.
[Collection(nameof(ChatSystem))]
public sealed class GenerationsTests(ChatSystem chat)
{
    private static CancellationToken Cancel => ChatSystem.Cancel;

    public static TheoryData<string, string> Formats => new()
    {
        { "html_tailwind", "class=\"min-h-screen" },
        { "html_css", "<style>" },
        { "react_tailwind", "export default function Hero()" },
        { "vue_tailwind", "<template>" },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task A_page_in_each_format_is_stored_and_costs_the_flat_price(string format, string marker)
    {
        var user = await chat.UserAsync();

        using var response = await user.Client.SendAsync(Create(new { prompt = "a launch page", format }, json: true), Cancel);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var page = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        var id = page.GetProperty("id").GetGuid();
        Assert.Equal($"/api/generations/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(format, page.GetProperty("format").GetString());
        Assert.Equal("completed", page.GetProperty("status").GetString());
        Assert.Contains(marker, page.GetProperty("code").GetString());
        Assert.Equal(1, page.GetProperty("credits").GetInt64());
        Assert.Equal(999, page.GetProperty("balance").GetInt64());

        var stored = await user.Client.GetFromJsonAsync<JsonElement>($"/api/generations/{id}", Cancel);
        Assert.Equal("completed", stored.GetProperty("status").GetString());
        Assert.Equal(page.GetProperty("code").GetString(), stored.GetProperty("code").GetString());
        Assert.Equal(1, stored.GetProperty("credits").GetInt64());
        Assert.Equal("a launch page", stored.GetProperty("prompt").GetString());
        Assert.True(stored.GetProperty("completedAt").GetDateTimeOffset() >= stored.GetProperty("createdAt").GetDateTimeOffset());
        Assert.Equal(new Wallet(999, 0, 999), await SettledAsync(user, 999));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task A_streamed_page_arrives_as_its_id_then_its_code_as_it_is_written(string format, string marker)
    {
        var user = await chat.UserAsync();

        using var response = await user.Client.SendAsync(Create(new { prompt = "a launch page", format }), HttpCompletionOption.ResponseHeadersRead, Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = await ReadAllAsync(response);
        Assert.Equal("started", events[0].Name);
        Assert.Equal("running", events[0].Data.GetProperty("status").GetString());
        var id = events[0].Data.GetProperty("id").GetGuid();
        var pieces = events.Where(e => e.Name == "code").ToList();
        Assert.True(pieces.Count > 10, $"{pieces.Count} code events");
        var code = string.Concat(pieces.Select(e => e.Data.GetProperty("text").GetString()));
        Assert.Contains(marker, code);
        var done = events[^1];
        Assert.Equal("done", done.Name);
        Assert.Equal(id, done.Data.GetProperty("id").GetGuid());
        Assert.Equal(1, done.Data.GetProperty("credits").GetInt64());
        Assert.Equal(999, done.Data.GetProperty("balance").GetInt64());
        var stored = await user.Client.GetFromJsonAsync<JsonElement>($"/api/generations/{id}", Cancel);
        Assert.Equal(code.Trim(), stored.GetProperty("code").GetString());
        Assert.Equal(new Wallet(999, 0, 999), await SettledAsync(user, 999));
    }

    [Fact]
    public async Task Bad_input_is_a_400_naming_the_field_and_charges_nothing()
    {
        var user = await chat.UserAsync();

        using var noFormat = await user.Client.SendAsync(Create(new { prompt = "a page" }, json: true), Cancel);
        using var badFormat = await user.Client.SendAsync(Create(new { prompt = "a page", format = "svelte" }, json: true), Cancel);
        using var noPrompt = await user.Client.SendAsync(Create(new { prompt = " ", format = "html_css" }, json: true), Cancel);
        using var paging = await user.Client.GetAsync("/api/generations?limit=0", Cancel);

        Assert.Contains("format", await ProblemAsync(noFormat, HttpStatusCode.BadRequest));
        Assert.Contains("html_tailwind, html_css, react_tailwind, vue_tailwind", await ProblemAsync(badFormat, HttpStatusCode.BadRequest));
        Assert.Contains("prompt", await ProblemAsync(noPrompt, HttpStatusCode.BadRequest));
        Assert.Equal(HttpStatusCode.BadRequest, paging.StatusCode);
        Assert.Equal(0, (await ListAsync(user)).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task An_answer_of_the_wrong_format_is_refused_stored_as_failed_and_not_charged()
    {
        var user = await chat.UserAsync();

        // echo: the model answers the prompt itself, which is prose, not a React component.
        using var json = await user.Client.SendAsync(Create(new { prompt = "a launch page [mock:echo]", format = "react_tailwind" }, json: true), Cancel);
        using var streamed = await user.Client.SendAsync(Create(new { prompt = "<html><body>no style</body></html> [mock:echo]", format = "html_css" }),
            HttpCompletionOption.ResponseHeadersRead, Cancel);

        var detail = await ProblemAsync(json, HttpStatusCode.BadGateway);
        Assert.Contains("not react_tailwind: it exports no component", detail);
        Assert.Contains("Nothing was charged.", detail);
        var events = await ReadAllAsync(streamed);
        Assert.Equal("started", events[0].Name);
        Assert.Contains(events, e => e.Name == "code");
        Assert.Equal("error", events[^1].Name);
        Assert.Contains("not html_css: it has no <style> element", events[^1].Data.GetProperty("detail").GetString());
        Assert.Equal(new Wallet(1000, 0, 1000), await SettledAsync(user, 1000));
        var list = await ListAsync(user);
        Assert.Equal(2, list.GetProperty("total").GetInt32());
        Assert.All(list.GetProperty("data").EnumerateArray(), g =>
        {
            Assert.Equal("failed", g.GetProperty("status").GetString());
            Assert.Equal(0, g.GetProperty("credits").GetInt64());
            Assert.Contains("not ", g.GetProperty("error").GetString());
        });
    }

    [Theory]
    [InlineData("[mock:error=500]", "The model provider failed: 500")]
    [InlineData("[mock:fail-after=5]", "The model provider")]
    public async Task A_generation_whose_model_fails_is_refunded(string directive, string detail)
    {
        var user = await chat.UserAsync();

        using var response = await user.Client.SendAsync(Create(new { prompt = $"a page {directive}", format = "vue_tailwind" }, json: true), Cancel);

        var problem = await ProblemAsync(response, HttpStatusCode.BadGateway);
        Assert.Contains(detail, problem);
        Assert.Contains("Nothing was charged.", problem);
        Assert.Equal(new Wallet(1000, 0, 1000), await SettledAsync(user, 1000));
        var failed = (await ListAsync(user)).GetProperty("data")[0];
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Contains(failed.GetProperty("id").GetGuid().ToString(), problem);
    }

    [Fact]
    public async Task A_retry_with_the_same_idempotency_key_is_answered_again_and_charged_once()
    {
        var user = await chat.UserAsync();
        var body = new { prompt = "a pricing page", format = "html_tailwind" };

        using var first = await user.Client.SendAsync(Create(body, json: true, idempotencyKey: "page-1"), Cancel);
        using var retry = await user.Client.SendAsync(Create(body, json: true, idempotencyKey: "page-1"), Cancel);
        using var streamedRetry = await user.Client.SendAsync(Create(body, idempotencyKey: "page-1"), HttpCompletionOption.ResponseHeadersRead, Cancel);
        using var otherBody = await user.Client.SendAsync(Create(body with { format = "html_css" }, json: true, idempotencyKey: "page-1"), Cancel);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        var id = (await first.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("id").GetGuid();
        Assert.Equal(id, (await retry.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("id").GetGuid());
        var replayed = await ReadAllAsync(streamedRetry);
        Assert.Equal(["started", "code", "done"], replayed.Select(e => e.Name));
        Assert.Equal(id, replayed[0].Data.GetProperty("id").GetGuid());
        // A replay is of a finished generation: started says so, as GET /api/generations/{id}/stream does (it said running).
        Assert.Equal("completed", replayed[0].Data.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherBody.StatusCode);
        Assert.Equal(new Wallet(999, 0, 999), await SettledAsync(user, 999));
        Assert.Equal(1, (await ListAsync(user)).GetProperty("total").GetInt32());
    }

    // A bad Idempotency-Key is named under errors like every other field at fault (a generation's problem had no errors).
    [Fact]
    public async Task A_bad_idempotency_key_is_a_400_naming_the_header_on_every_route_that_takes_one()
    {
        var user = await chat.UserAsync();
        var tooLong = new string('k', 201);

        using var page = await user.Client.SendAsync(Create(new { prompt = "a launch page", format = "html_css" }, json: true, idempotencyKey: tooLong), Cancel);
        using var answer = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "hi" }, json: true, idempotencyKey: tooLong), Cancel);

        Assert.Equal("The field 'Idempotency-Key' must be 1 to 200 characters.", await page.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "Idempotency-Key"));
        Assert.Equal("The field 'Idempotency-Key' must be 1 to 200 characters.", await answer.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "Idempotency-Key"));
    }

    [Fact]
    public async Task The_web_and_an_api_key_spend_one_balance()
    {
        var user = await chat.UserAsync();
        using var api = await ApiKeyClientAsync(user);

        using var byKey = await api.SendAsync(Create(new { prompt = "a page", format = "html_css" }, json: true), Cancel);
        using var byWeb = await user.Client.SendAsync(Create(new { prompt = "a page", format = "html_tailwind" }, json: true), Cancel);

        Assert.Equal(HttpStatusCode.Created, byKey.StatusCode);
        Assert.Equal(HttpStatusCode.Created, byWeb.StatusCode);
        // (The second answer's balance may not include the first charge yet, which is still on its way to Billing.)
        Assert.Equal(new Wallet(998, 0, 998), await SettledAsync(user, 998));
        var list = await ListAsync(user);
        Assert.Equal(2, list.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task An_empty_wallet_is_402_for_the_web_and_an_api_key_and_nothing_is_created()
    {
        var user = await chat.UserAsync();
        using var api = await ApiKeyClientAsync(user);
        // Everything granted goes on one chat answer (as ChatTests' low-balance case), so the wallet is empty.
        using var drain = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "Go on [mock:tokens=2000]" }, json: true), Cancel);
        Assert.Equal(HttpStatusCode.OK, drain.StatusCode);
        Assert.Equal(new Wallet(0, 0, 0), await SettledAsync(user, 0));
        var requests = chat.Model.Stats.Requests;

        using var byKey = await api.SendAsync(Create(new { prompt = "a page", format = "react_tailwind" }, json: true), Cancel);
        using var byWeb = await user.Client.SendAsync(Create(new { prompt = "a page", format = "vue_tailwind" }), Cancel);

        Assert.Equal("Required: 1, Available: 0", await ProblemAsync(byKey, HttpStatusCode.PaymentRequired));
        Assert.Equal("Required: 1, Available: 0", await ProblemAsync(byWeb, HttpStatusCode.PaymentRequired));
        Assert.Equal(requests, chat.Model.Stats.Requests);
        Assert.Equal(0, (await ListAsync(user)).GetProperty("total").GetInt32());
    }

    private async Task<HttpClient> ApiKeyClientAsync(TestUser user)
    {
        var api = chat.System.CreateEdgeClient();
        api.DefaultRequestHeaders.Add("x-api-key", await chat.ApiKeyAsync(user));
        return api;
    }

    [Fact]
    public async Task The_owner_lists_gets_and_streams_their_generations_and_another_user_gets_404()
    {
        var owner = await chat.UserAsync();
        var stranger = await chat.UserAsync();
        using var created = await owner.Client.SendAsync(Create(new { prompt = "a blog", format = "vue_tailwind" }, json: true), Cancel);
        var page = await created.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        var id = page.GetProperty("id").GetGuid();
        // An icon is a generation too, but not a page: it is not in this list.
        using var icon = await owner.Client.PostAsJsonAsync("/api/icons", new { prompt = "a dot" }, Cancel);
        Assert.Equal(HttpStatusCode.Created, icon.StatusCode);

        var list = await ListAsync(owner, "?limit=10&offset=0");
        using var streamed = await owner.Client.GetAsync($"/api/generations/{id}/stream", HttpCompletionOption.ResponseHeadersRead, Cancel);
        using var strangersGet = await stranger.Client.GetAsync($"/api/generations/{id}", Cancel);
        using var strangersStream = await stranger.Client.GetAsync($"/api/generations/{id}/stream", Cancel);

        Assert.Equal(1, list.GetProperty("total").GetInt32());
        Assert.Equal(10, list.GetProperty("limit").GetInt32());
        Assert.Equal(id, list.GetProperty("data")[0].GetProperty("id").GetGuid());
        Assert.Equal("vue_tailwind", list.GetProperty("data")[0].GetProperty("format").GetString());
        var events = await ReadAllAsync(streamed);
        Assert.Equal(["started", "code", "done"], events.Select(e => e.Name));
        Assert.Equal("completed", events[0].Data.GetProperty("status").GetString());
        Assert.Equal(page.GetProperty("code").GetString(), events[1].Data.GetProperty("text").GetString());
        Assert.Equal(HttpStatusCode.NotFound, strangersGet.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, strangersStream.StatusCode);
        Assert.Equal(0, (await ListAsync(stranger)).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Streaming_a_running_generation_follows_it_to_its_end()
    {
        var user = await chat.UserAsync();
        // About 150 tokens 6 ms apart: still running when the second stream opens, and inside the tests' 3 s upstream
        // limit on a loaded machine (12 ms apart once overran it there, and the generation ended in an error).
        using var creating = await user.Client.SendAsync(Create(new { prompt = "a slow page [mock:token-ms=6]", format = "html_css" }),
            HttpCompletionOption.ResponseHeadersRead, Cancel);
        await using var body = await creating.Content.ReadAsStreamAsync(Cancel);
        await using var events = ServerSentEvents.ReadAsync(body).GetAsyncEnumerator(Cancel);
        Assert.True(await events.MoveNextAsync());
        var id = events.Current.Data.GetProperty("id").GetGuid();

        using var following = await user.Client.GetAsync($"/api/generations/{id}/stream", HttpCompletionOption.ResponseHeadersRead, Cancel);
        var followed = await ReadAllAsync(following);

        Assert.Equal("running", followed[0].Data.GetProperty("status").GetString());
        Assert.Equal(["started", "code", "done"], followed.Select(e => e.Name));
        var stored = await user.Client.GetFromJsonAsync<JsonElement>($"/api/generations/{id}", Cancel);
        Assert.Equal("completed", stored.GetProperty("status").GetString());
        Assert.Equal(stored.GetProperty("code").GetString(), followed[1].Data.GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_generations_progress_reaches_its_owners_live_socket_and_nobody_elses()
    {
        var owner = await chat.UserAsync();
        var stranger = await chat.UserAsync();
        await using var ownersSocket = await LiveEvents.ConnectAsync(chat.System.Edge, owner);
        await using var strangersSocket = await LiveEvents.ConnectAsync(chat.System.Edge, stranger);

        var started = DateTime.UtcNow;
        using var response = await owner.Client.SendAsync(Create(new { prompt = "a page [mock:token-ms=10]", format = "react_tailwind" }),
            HttpCompletionOption.ResponseHeadersRead, Cancel);
        var id = (await ReadAllAsync(response))[0].Data.GetProperty("id").GetGuid();
        var took = DateTime.UtcNow - started;

        var completed = await ownersSocket.NextAsync("generation_completed", id);
        Assert.Equal(1, completed.GetProperty("data").GetProperty("credits").GetInt64());
        var types = ownersSocket.About(id).Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal("generation_started", types[0]);
        var progress = types.Count(t => t == "generation_progress");
        // At most one per interval (200 ms in these tests) while it ran, and at least one in a run of over a second.
        Assert.InRange(progress, 1, (int)(took / ChatSystem.GenerationProgressInterval) + 1);
        Assert.Empty(strangersSocket.About(id));

        using var failing = await owner.Client.SendAsync(Create(new { prompt = "a page [mock:error=503]", format = "html_css" }, json: true), Cancel);
        var failedId = Guid.Parse(System.Text.RegularExpressions.Regex.Match(await ProblemAsync(failing, HttpStatusCode.BadGateway), @"generation ([0-9a-f\-]{36})").Groups[1].Value);
        var failed = await ownersSocket.NextAsync("generation_failed", failedId);
        Assert.Contains("503", failed.GetProperty("data").GetProperty("reason").GetString());
    }

    private static HttpRequestMessage Create(object body, bool json = false, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/generations") { Content = JsonContent.Create(body) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(json ? "application/json" : "text/event-stream"));
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        return request;
    }

    private static async Task<List<ServerSentEvent>> ReadAllAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = new List<ServerSentEvent>();
        await foreach (var e in ServerSentEvents.ReadAsync(await response.Content.ReadAsStreamAsync(Cancel)))
        {
            events.Add(e);
        }
        return events;
    }

    // Whatever the request's Accept (an event stream too), a problem has its words, where it happened and its trace.
    private static async Task<string> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        Assert.Equal("/api/generations", problem.GetProperty("instance").GetString()![..16]);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("traceId").GetString()));
        return problem.GetProperty("detail").GetString()!;
    }

    private static async Task<JsonElement> ListAsync(TestUser user, string query = "") =>
        await user.Client.GetFromJsonAsync<JsonElement>($"/api/generations{query}", Cancel);

    private static Task<Wallet> SettledAsync(TestUser user, long balance) =>
        Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance == balance);
}

// The owner's live socket (Devices' /api/events through the edge), every message kept for the test to look through.
public sealed class LiveEvents : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly List<JsonElement> _received = [];
    private readonly Task _reading;

    private LiveEvents(ClientWebSocket socket)
    {
        _socket = socket;
        _reading = Task.Run(ReadAsync);
    }

    public static async Task<LiveEvents> ConnectAsync(IServiceHost edge, TestUser user)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {user.AccessToken}");
        await socket.ConnectAsync(new Uri(new UriBuilder(edge.Address) { Scheme = "ws" }.Uri, "/api/events"), ChatSystem.Cancel);
        var live = new LiveEvents(socket);
        await live.NextAsync(e => e.GetProperty("type").GetString() == "connected");
        return live;
    }

    public IReadOnlyList<JsonElement> About(Guid generationId)
    {
        lock (_received)
        {
            return [.. _received.Where(e => e.GetProperty("data").TryGetProperty("generationId", out var id) && id.GetGuid() == generationId)];
        }
    }

    public Task<JsonElement> NextAsync(string type, Guid generationId) =>
        NextAsync(e => e.GetProperty("type").GetString() == type && About(generationId).Contains(e));

    public async Task<JsonElement> NextAsync(Func<JsonElement, bool> match)
    {
        var found = await Eventually.UntilAsync(() =>
        {
            lock (_received) return Task.FromResult(_received.FirstOrDefault(match));
        }, e => e.ValueKind != JsonValueKind.Undefined);
        lock (_received)
        {
            Assert.True(found.ValueKind != JsonValueKind.Undefined, $"No such live event; received: {string.Join(", ", _received.Select(e => e.GetRawText()))}");
        }
        return found;
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[1 << 16];
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                using var message = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                    message.Write(buffer, 0, result.Count);
                } while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                var json = JsonDocument.Parse(message.ToArray()).RootElement.Clone();
                lock (_received) _received.Add(json);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        await _reading;
        _socket.Dispose();
    }
}
