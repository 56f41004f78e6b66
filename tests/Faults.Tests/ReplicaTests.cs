using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Gateway.AppHost.Tests;
using Gateway.ServiceDefaults;

namespace Gateway.Faults.Tests;

/// <summary>
/// The real AppHost with <c>--replicas 2</c>: two processes of the edge and of every service (MockLlm stays one), and
/// Aspire's dashboard receiving their telemetry.
/// </summary>
public sealed class ReplicatedSystem : RunningSystem
{
    // GET /api/keys is the "keys" group: a small limit to see the two edges share it, in windows long enough that a
    // test rarely meets a window's end (windows are fixed, aligned to the clock).
    public const int KeysPerWindow = 20;
    public static readonly TimeSpan KeysWindow = TimeSpan.FromMinutes(10);

    protected override Task<FaultSystem> StartAsync() => FaultSystem.StartAsync(
        line => TestContext.Current.SendDiagnosticMessage(line), TestContext.Current.CancellationToken,
        environment: new Dictionary<string, string>
        {
            ["Edge__RateLimits__Groups__keys__PermitLimit"] = KeysPerWindow.ToString(),
            ["Edge__RateLimits__Groups__keys__Window"] = KeysWindow.ToString(),
        },
        replicas: 2, dashboard: true);
}

/// <summary>
/// Issue 21's guarantees across instances: whichever edge, Chat, Billing or Devices instance a request or a socket
/// lands on, revocation, rate limits, the ledger and live events behave as with one of each.
/// </summary>
public sealed class ReplicaTests(ReplicatedSystem replicated) : IClassFixture<ReplicatedSystem>
{
    private static readonly string[] Replicated = ["edge", "identity", "keys", "billing", "chat", "devices"];

    private FaultSystem System => replicated.System;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void The_edge_and_every_service_run_as_two_processes_each_on_its_own_port()
    {
        foreach (var resource in Replicated)
        {
            Assert.Equal(2, System.Pids(resource).Count);
            var ports = System.InstanceEndpoints(resource).Select(u => u.Port).ToList();
            Assert.Equal(2, ports.Distinct().Count());
            Assert.DoesNotContain(System.Endpoint(resource).Port, ports); // the shared port is the orchestrator's
        }
        Assert.Single(System.Pids("mockllm"));
    }

    [Fact]
    public async Task A_revoked_key_and_an_ended_session_are_refused_by_both_edge_instances_within_seconds()
    {
        var edges = System.InstanceEndpoints("edge");
        var user = await System.SignUpAsync("revoked-", Ct);
        // Each edge has the key (and the session) in its memory before they end. A Keys instance that has not looked up a
        // key yet can take longer than the edge waits for it (3 s) on a loaded machine (CI, 2026-12-07): the edge answers
        // 503 and asks again with the next request.
        foreach (var edge in edges)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusBeyond503Async(edge, "/v1/models", user.ApiKey));
            Assert.Equal(HttpStatusCode.OK, await StatusBeyond503Async(edge, "/api/auth/me", user.AccessToken));
        }

        await System.RevokeKeyAsync(user, Ct);
        await RefusedByEveryEdgeInTimeAsync(edges, "/v1/models", user.ApiKey);

        await System.SignOutAsync(user, Ct);
        await RefusedByEveryEdgeInTimeAsync(edges, "/api/auth/me", user.AccessToken);
    }

    [Fact]
    public async Task A_callers_rate_limit_is_shared_by_both_edge_instances_not_multiplied()
    {
        var (first, second) = (System.InstanceEndpoints("edge")[0], System.InstanceEndpoints("edge")[1]);
        // All of it within one window: one that ended between the two halves counted them apart (25 admitted of 20).
        var window = (long)ReplicatedSystem.KeysWindow.TotalMilliseconds;
        var left = TimeSpan.FromMilliseconds(window - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() % window);
        if (left < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(left + TimeSpan.FromSeconds(1), Ct);
        }
        var user = await System.SignUpAsync("limited-", Ct);
        var half = ReplicatedSystem.KeysPerWindow / 2 + 2;

        var admitted = 1; // signing up made the user's key: POST /api/keys is in the group too
        for (var i = 0; i < half; i++)
        {
            admitted += await StatusAsync(first, "/api/keys", user.AccessToken) == HttpStatusCode.OK ? 1 : 0;
        }
        // The edges exchange what they admitted every 100 ms (Edge:RateLimits:SyncInterval).
        await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        var refused = 0;
        for (var i = 0; i < half; i++)
        {
            var status = await StatusAsync(second, "/api/keys", user.AccessToken);
            admitted += status == HttpStatusCode.OK ? 1 : 0;
            refused += status == HttpStatusCode.TooManyRequests ? 1 : 0;
        }

        // One limit for both (each alone would admit all 2 × half): at most a sync in flight over it, as documented
        // (docs/caller-identity.md, "Rate limits").
        Assert.InRange(admitted, ReplicatedSystem.KeysPerWindow, ReplicatedSystem.KeysPerWindow + 2);
        Assert.Equal(2 * half + 1 - admitted, refused);
    }

    [Fact]
    public Task With_one_Billing_instance_killed_under_load_every_answer_is_charged_once_and_every_hold_freed_within_60_s() =>
        FaultTests.SurvivesAsync(System, Fault.KillBilling, "replica-billing-");

    [Fact]
    public Task With_one_Chat_instance_killed_under_load_every_answer_is_charged_once_and_every_hold_freed_within_60_s() =>
        FaultTests.SurvivesAsync(System, Fault.KillChat, "replica-chat-");

    // Half the single-instance race: on two cores, twice the processes answer slower, and 300 at once outran the
    // client's one-minute timeout while the other test assemblies ran.
    [Fact]
    public Task Requests_spread_over_two_Chat_and_two_Billing_instances_never_overdraw_a_wallet() =>
        FaultTests.NeverOverdrawsAsync(System, affordable: 50, requests: 150);

    [Fact]
    public async Task Live_events_reach_a_socket_on_either_Devices_instance_each_once_and_in_order()
    {
        var owner = await System.SignUpAsync("live-", Ct);
        var sockets = new List<EventSocket>();
        try
        {
            foreach (var devices in System.InstanceEndpoints("devices"))
            {
                sockets.Add(await EventSocket.ConnectAsync(devices, System.CallerToken(owner)));
            }

            var registered = new List<Guid>();
            for (var i = 0; i < 5; i++)
            {
                using var register = owner.Request(HttpMethod.Post, "/api/devices/register");
                register.Content = JsonContent.Create(new { name = $"Kiosk {i}" });
                using var response = await System.Http.SendAsync(register, Ct);
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                registered.Add((await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid());
            }

            // Each event once, in id order, and the same sequence on every socket. (Not necessarily the order of the
            // registrations: two Devices instances publish their outboxes independently; the id order is the log's.)
            var sequences = new List<List<(long Id, Guid Device)>>();
            foreach (var socket in sockets)
            {
                var events = await socket.WaitForAsync("device_registered", registered.Count, TimeSpan.FromSeconds(15));
                var sequence = events.Select(e => (Id: e.GetProperty("id").GetInt64(), Device: e.GetProperty("data").GetProperty("deviceId").GetGuid())).ToList();
                Assert.Equal(registered.Order(), sequence.Select(e => e.Device).Order());
                Assert.Equal(sequence.Select(e => e.Id).Order(), sequence.Select(e => e.Id));
                Assert.Equal(sequence.Count, sequence.Select(e => e.Id).Distinct().Count());
                sequences.Add(sequence);
            }
            Assert.All(sequences, sequence => Assert.Equal(sequences[0], sequence));
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_chat_request_is_one_trace_in_the_Aspire_dashboard_whichever_instances_it_passes_through()
    {
        // Once its sign-up grant is in: the grant is an event, and right after the other tests' restarts it can take a
        // moment (a chat sent at once was once refused with 402, "Available: 0").
        var user = (await System.SignUpAsync("traced-", 1, 10_000, Ct))[0];
        using var chat = user.Request(HttpMethod.Post, "/api/chat");
        chat.Content = JsonContent.Create(new { message = "Show me a trace" });
        chat.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(1));
        using var response = await System.Http.SendAsync(chat, timeout.Token);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");

        var dashboard = System.Dashboard!;
        await using var browser = await DashboardBrowser.SignInAsync(dashboard.Url.ToString().TrimEnd('/'), dashboard.BrowserToken);
        await browser.FindTraceAsync("edge: POST /api/chat", ["edge", "chat", "billing"], TimeSpan.FromSeconds(120));
        await browser.ScreenshotAsync("trace-replicas.png");
    }

    private async Task<HttpStatusCode> StatusAsync(Uri edge, string path, string bearer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(edge, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await System.Http.SendAsync(request, Ct);
        return response.StatusCode;
    }

    // The first answer that is not a 503, of at most five requests half a second apart.
    private async Task<HttpStatusCode> StatusBeyond503Async(Uri edge, string path, string bearer)
    {
        for (var attempt = 1; ; attempt++)
        {
            var status = await StatusAsync(edge, path, bearer);
            if (status != HttpStatusCode.ServiceUnavailable || attempt == 5)
            {
                return status;
            }
            await Task.Delay(500, Ct);
        }
    }

    private async Task RefusedByEveryEdgeInTimeAsync(IReadOnlyList<Uri> edges, string path, string bearer)
    {
        // On when a request is sent. A single edge's bound is 1.5 s (Edge.Tests: ApiKeyTests, CallerIdentityTests); here two
        // of every process share two cores with the other test lane, and the ends reach both edges in 100-370 ms when this
        // class runs alone, but a revocation was still accepted 1.54 s after it in one full run (2026-12-06, the other
        // lane beside it; not traced yet, docs/scaling.md). So 3 s here: what this test guards is that both edges refuse,
        // each on its own, within a few seconds of the end.
        var clock = Stopwatch.StartNew();
        foreach (var edge in edges)
        {
            while (true)
            {
                var sentAt = clock.Elapsed;
                var status = await StatusAsync(edge, path, bearer);
                if (status == HttpStatusCode.Unauthorized)
                {
                    TestContext.Current.TestOutputHelper?.WriteLine($"{edge} refused {path} {clock.Elapsed.TotalMilliseconds:0} ms after it ended");
                    break;
                }
                Assert.True(sentAt < TimeSpan.FromSeconds(3),
                    $"{edge} still accepted {path} ({(int)status}) sent {sentAt.TotalMilliseconds:0} ms after it ended, answered at {clock.Elapsed.TotalMilliseconds:0} ms");
                await Task.Delay(20, Ct);
            }
        }
    }

    // A live socket straight to one Devices instance, with the caller token the edge would have sent.
    private sealed class EventSocket : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket = new();
        private readonly List<JsonElement> _received = [];

        public static async Task<EventSocket> ConnectAsync(Uri devices, string callerToken)
        {
            var live = new EventSocket();
            live._socket.Options.SetRequestHeader(CallerAuthentication.HeaderName, callerToken);
            await live._socket.ConnectAsync(new Uri(new UriBuilder(devices) { Scheme = "ws" }.Uri, "/api/events"), Ct);
            await live.WaitForAsync("connected", 1, TimeSpan.FromSeconds(10)); // from then on nothing is missed
            return live;
        }

        public async Task<IReadOnlyList<JsonElement>> WaitForAsync(string type, int count, TimeSpan within)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(within);
            var buffer = new byte[64 * 1024];
            while (_received.Count(e => e.GetProperty("type").GetString() == type) < count)
            {
                using var message = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer, timeout.Token);
                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);
                Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
                _received.Add(JsonDocument.Parse(message.ToArray()).RootElement.Clone());
            }
            return [.. _received.Where(e => e.GetProperty("type").GetString() == type)];
        }

        public async ValueTask DisposeAsync()
        {
            if (_socket.State == WebSocketState.Open)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
            _socket.Dispose();
        }
    }
}
