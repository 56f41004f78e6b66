using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Gateway.Hosting.Servers;
using Gateway.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenAI;
using OpenAI.Chat;

namespace Gateway.Testing.Faults;

/// <summary>
/// The whole system through the real AppHost (Aspire.Hosting.Testing), as processes that can be killed and stalled:
/// its own data folder and secrets under the system temp folder, a platform administrator for the ledger's audit and
/// grants, and the edge's rate limits opened for load. Faults.Tests and bench/Faults.Bench both drive it.
/// </summary>
public sealed class FaultSystem : IAsyncDisposable
{
    public const string Model = "local-model";
    private const int Sigkill = 9, Sigcont = 18, Sigstop = 19;
    // A bound against a hang: a replicated start and warm-up take about 3 min on two cores shared with other tests.
    private static readonly TimeSpan StartLimit = TimeSpan.FromMinutes(6);

    private readonly DistributedApplication _app;
    private readonly string _root;
    // Each running instance's latest state, by its orchestrator id ("chat-xkqzr"), with its resource's name ("chat").
    private readonly ConcurrentDictionary<string, (string Resource, CustomResourceSnapshot Snapshot)> _instances = new();
    private readonly CancellationTokenSource _watching = new();
    private readonly HashSet<int> _seenPids = [];
    private readonly Task _watcher;

    private readonly CallerTokenIssuer _callerTokens;

    private FaultSystem(DistributedApplication app, string root, Uri edge, HttpClient http, string callerTokenKey, DashboardAddress? dashboard)
    {
        Dashboard = dashboard;
        _callerTokens = new CallerTokenIssuer(Options.Create(new CallerTokenOptions { Key = callerTokenKey }));
        _app = app;
        _root = root;
        Edge = edge;
        Http = http;
        _watcher = WatchAsync(_watching.Token);
    }

    public Uri Edge { get; }

    /// <summary>Where Aspire's dashboard is, and the token that signs a browser in, when the system was started with it.</summary>
    public DashboardAddress? Dashboard { get; }

    /// <summary>Where a resource (a service, MockLlm) listens, directly rather than through the edge.</summary>
    public Uri Endpoint(string resource) => _app.GetEndpoint(resource, "http");

    /// <summary>One client for every caller (each request carries its caller's credentials), so load is not limited by connections.</summary>
    public HttpClient Http { get; }

    public FaultUser Admin { get; private set; } = null!;

    /// <param name="log">Where the start's progress is written (nowhere by default).</param>
    /// <param name="ct">Gives up the start.</param>
    /// <param name="dashboard">Also start Aspire's dashboard, so every service exports its logs, traces and metrics to it over OTLP, as under ./run.sh.</param>
    /// <param name="environment">Set for every service and the edge.</param>
    /// <param name="replicas">Instances of the edge and of each service (the AppHost's --replicas).</param>
    public static async Task<FaultSystem> StartAsync(Action<string>? log = null, CancellationToken ct = default, bool dashboard = false,
        IReadOnlyDictionary<string, string>? environment = null, int replicas = 1)
    {
        log ??= _ => { };
        var root = Directory.CreateTempSubdirectory("gateway-faults-").FullName;
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101); // the postgres user must enter it
        var edge = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        static string Password() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        static string Key() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var callerTokenKey = Key();
        // Every secret given, so a run never reads or writes the AppHost's user secrets.
        string[] args =
        [
            "--data", Path.Combine(root, "data"), "--edge-url", edge.ToString().TrimEnd('/'),
            $"--Parameters:postgres-password={Password()}", $"--Parameters:redis-password={Password()}", $"--Parameters:rabbitmq-password={Password()}",
            $"--Parameters:caller-token-key={callerTokenKey}", $"--Parameters:key-cache-key={Key()}", $"--Parameters:vault-key={Key()}",
            $"--Parameters:signing-keys-key={Key()}", "--replicas", replicas.ToString(),
        ];
        var dashboardAddress = dashboard ? new DashboardAddress(new Uri($"http://127.0.0.1:{FreePort.Next(3)}"), Password()) : null;
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Gateway_AppHost>(
            dashboardAddress is { } d ? [.. args, "--dashboard-url", d.Url.ToString().TrimEnd('/'), $"--ASPIRE_DASHBOARD_FRONTEND_BROWSERTOKEN={d.BrowserToken}"] : args,
            (options, _) => options.DisableDashboard = !dashboard, ct);
        // The testing builder moves proxied endpoints (the edge's and every service's with replicas) to random ports;
        // keep them where the arguments put them (free ports, chosen above and by the AppHost).
        builder.Configuration["DcpPublisher:RandomizePorts"] = "false";
        // The services' own logs stay in the orchestrator; a killed service failing its health checks is expected here.
        builder.Services.AddLogging(logging => logging
            .AddFilter("Gateway.AppHost.Resources", LogLevel.None)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None)
            .AddFilter("Aspire.Hosting", LogLevel.Warning));

        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            {
                builder.CreateResourceBuilder(project).WithEnvironment(name, value);
            }
        }

        // Load comes from one address and a few callers: the edge's per-caller limits would answer 429 instead.
        var edgeResource = builder.CreateResourceBuilder<ProjectResource>("edge");
        foreach (var group in new[] { "default", "auth", "chat" })
        {
            edgeResource.WithEnvironment($"Edge__RateLimits__Groups__{group}__PermitLimit", "100000000");
        }
        // The administrator is a user, whose id exists only once Identity has registered them: Billing is started
        // again once it is known (its environment is read at every start).
        var administrator = new AdministratorSlot();
        builder.CreateResourceBuilder<ProjectResource>("billing").WithEnvironment(context =>
        {
            if (administrator.UserId is { } id)
            {
                context.EnvironmentVariables["Billing__Ledger__Administrators__0"] = id.ToString();
            }
        });

        var app = await builder.BuildAsync(ct);
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 2048, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) })
        {
            BaseAddress = edge,
            Timeout = Timeout.InfiniteTimeSpan, // each request brings its own
        };
        FaultSystem? system = null;
        var clock = Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(StartLimit);
        Func<string> stage = () => "starting the AppHost's resources";
        try
        {
            await app.StartAsync(timeout.Token);
            stage = () => "waiting for the edge to be healthy";
            await app.ResourceNotifications.WaitForResourceHealthyAsync("edge", timeout.Token);
            log($"The system is healthy after {clock.Elapsed.TotalSeconds:0.0} s");
            system = new FaultSystem(app, root, edge, http, callerTokenKey, dashboardAddress);

            stage = () => "signing up the administrator and restarting Billing";
            var admin = await system.SignUpAsync("admin", timeout.Token);
            administrator.UserId = admin.UserId;
            await system.RestartAsync("billing", timeout.Token);
            system.Admin = admin;
            await system.AuditAsync(timeout.Token); // the administrator is in
            log($"Billing knows its administrator after {clock.Elapsed.TotalSeconds:0.0} s");

            // Every way of asking once or twice, so that the first fault does not meet a system still compiling its code.
            var warmUp = MeteredLoad.Start(system, await system.SignUpAsync("warm-up-", 2, 10_000, timeout.Token), new LoadOptions { MaxRequestsPerUser = 8 });
            stage = () => $"warming up ({warmUp.Requests} of 16 chat requests answered)";
            await warmUp.Completion.WaitAsync(timeout.Token);
            // A key revoked and a session ended once, so that a test timing how fast either reaches every edge does not
            // time the first of its kind (the publisher's first event of the type, the edges' first call of the consumer).
            stage = () => "warming up (revoking a key, signing out)";
            var leaving = await system.SignUpAsync("warm-up-leaving-", timeout.Token);
            await system.RevokeKeyAsync(leaving, timeout.Token);
            await system.SignOutAsync(leaving, timeout.Token);
            log($"Warmed up after {clock.Elapsed.TotalSeconds:0.0} s");
            return system;
        }
        catch (Exception e)
        {
            var timedOut = e is OperationCanceledException && timeout.IsCancellationRequested && !ct.IsCancellationRequested;
            var states = timedOut ? await StatesAsync(app) : "";
            if (system is not null)
            {
                await system.DisposeAsync();
            }
            else
            {
                http.Dispose();
                await app.DisposeAsync();
                DeleteFolder(root);
            }
            if (timedOut)
            {
                throw new TimeoutException($"The system was not ready {StartLimit.TotalMinutes:0} min after its start, still {stage()}. Not running and healthy: {states}", e);
            }
            throw;
        }
    }

    // ---- callers ---------------------------------------------------------------------------------------------------

    /// <summary>A new user through the edge (Identity's sign-up), with an access token and an sk_live_ key.</summary>
    public async Task<FaultUser> SignUpAsync(string name, CancellationToken ct)
    {
        var email = $"{name}-{Guid.NewGuid():N}@example.com";
        using var register = await Http.PostAsJsonAsync("/api/auth/register", new { email, password = TestUsers.Password, name }, ct);
        var body = await register.Content.ReadAsStringAsync(ct);
        if (!register.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Registering {email} failed with {(int)register.StatusCode}: {body}");
        }
        var session = JsonDocument.Parse(body).RootElement;
        var user = new FaultUser(name, session.GetProperty("user").GetProperty("id").GetGuid(), session.GetProperty("accessToken").GetString()!, "")
        {
            Email = email,
            OrganizationId = session.GetProperty("user").GetProperty("organizationId").GetGuid(),
        };

        using var request = user.Request(HttpMethod.Post, "/api/keys");
        request.Content = JsonContent.Create(new { name = "faults" });
        using var created = await Http.SendAsync(request, ct);
        var key = await created.Content.ReadAsStringAsync(ct);
        if (!created.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Creating an API key for {email} failed with {(int)created.StatusCode}: {key}");
        }
        var issued = JsonDocument.Parse(key).RootElement;
        return user with { ApiKey = issued.GetProperty("key").GetString()!, ApiKeyId = issued.GetProperty("id").GetGuid() };
    }

    /// <summary>Revokes the user's sk_live_ key through the edge.</summary>
    public Task RevokeKeyAsync(FaultUser user, CancellationToken ct) => SucceedsAsync(user.Request(HttpMethod.Delete, $"/api/keys/{user.ApiKeyId}"), ct);

    /// <summary>Ends the user's sign-in session through the edge.</summary>
    public Task SignOutAsync(FaultUser user, CancellationToken ct) => SucceedsAsync(user.Request(HttpMethod.Post, "/api/auth/logout"), ct);

    private async Task SucceedsAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using (request)
        using (var response = await Http.SendAsync(request, ct))
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{request.Method} {request.RequestUri} answered {(int)response.StatusCode}.");
            }
        }
    }

    /// <summary>The caller token the edge would send for the user (the owner of their organisation), to call one service instance directly.</summary>
    public string CallerToken(FaultUser user) =>
        _callerTokens.Issue(new Caller(user.UserId, user.OrganizationId, "owner", user.Email, CallerMethods.User));

    /// <summary>The official OpenAI .NET client for the edge's /v1 with the user's key; it never retries, so each call is what the client saw.</summary>
    public ChatClient OpenAIClient(FaultUser user, TimeSpan timeout) =>
        new(Model, new ApiKeyCredential(user.ApiKey), new OpenAIClientOptions
        {
            Endpoint = new Uri(Edge, "/v1"),
            RetryPolicy = new ClientRetryPolicy(0),
            Transport = new HttpClientPipelineTransport(Http),
            NetworkTimeout = timeout,
        });

    /// <summary>Users whose sign-up grant has arrived, and whose wallet then holds exactly <paramref name="credits"/> (an administrator's adjustment).</summary>
    public async Task<IReadOnlyList<FaultUser>> SignUpAsync(string prefix, int count, long credits, CancellationToken ct)
    {
        var users = new List<FaultUser>();
        foreach (var chunk in Enumerable.Range(0, count).Chunk(8))
        {
            users.AddRange(await Task.WhenAll(chunk.Select(i => SignUpAsync($"{prefix}{i}", ct))));
        }
        await Task.WhenAll(users.Select(u => SetBalanceAsync(u, credits, ct)));
        return users;
    }

    // The sign-up grant travels as an event; once it is in, the difference is adjusted.
    private async Task SetBalanceAsync(FaultUser user, long credits, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var wallet = await BalanceAsync(user, ct);
        while (wallet?.Balance is null or 0 && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100, ct);
            wallet = await BalanceAsync(user, ct);
        }
        if (wallet is null || wallet.Balance == 0)
        {
            throw new InvalidOperationException($"{user.Name}'s sign-up grant did not arrive in 30 s.");
        }
        if (wallet.Balance != credits)
        {
            await AdjustAsync(user, credits - wallet.Balance, ct);
        }
    }

    public async Task AdjustAsync(FaultUser user, long amount, CancellationToken ct)
    {
        using var request = Admin.Request(HttpMethod.Post, "/api/admin/ledger/adjustments");
        request.Content = JsonContent.Create(new { transferId = Guid.NewGuid(), userId = user.UserId, amount, reason = "Fault suite" });
        using var response = await Http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Adjusting {user.Name}'s wallet by {amount} failed with {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }
    }

    /// <summary>The wallet as its owner sees it, or null when Billing did not answer.</summary>
    public async Task<Wallet?> BalanceAsync(FaultUser user, CancellationToken ct)
    {
        try
        {
            using var request = user.Request(HttpMethod.Get, "/api/tokens/balance");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            using var response = await Http.SendAsync(request, timeout.Token);
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<Wallet>(timeout.Token) : null;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>What the user was charged for model use (the captures), as their usage series sums it.</summary>
    public async Task<Charges?> ChargesAsync(FaultUser user, CancellationToken ct)
    {
        try
        {
            using var request = user.Request(HttpMethod.Get, "/api/usage?days=2");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            using var response = await Http.SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }
            var series = (await response.Content.ReadFromJsonAsync<JsonElement>(timeout.Token)).GetProperty("series").EnumerateArray().ToList();
            return new Charges(series.Sum(d => d.GetProperty("requests").GetInt32()), series.Sum(d => d.GetProperty("credits").GetInt64()));
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Billing's ledger audit, through the edge as a platform administrator.</summary>
    public async Task<JsonElement> AuditAsync(CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var request = Admin.Request(HttpMethod.Get, "/api/admin/ledger/audit");
            using var response = await Http.SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (response.IsSuccessStatusCode)
            {
                return JsonDocument.Parse(body).RootElement.Clone();
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException($"The ledger audit answered {(int)response.StatusCode}: {body}");
            }
            await Task.Delay(200, ct);
        }
    }

    /// <summary>How many holds Billing has made so far for these users' wallets (their requests' own and standby ones).</summary>
    public async Task<long> HoldsMadeAsync(IEnumerable<FaultUser> users, CancellationToken ct)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(await _app.GetConnectionStringAsync("billingdb", ct)) { Pooling = false }.ConnectionString;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var holds = new NpgsqlCommand("SELECT count(*) FROM transfers WHERE kind = 'hold' AND wallet_id = ANY($1)", connection);
        holds.Parameters.Add(new NpgsqlParameter { Value = users.Select(u => u.UserId).ToArray() });
        return (long)(await holds.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Straight from Billing's database: what the API does not show (holds left open, a hold captured twice).</summary>
    public async Task<LedgerFacts> LedgerFactsAsync(IEnumerable<FaultUser> users, IEnumerable<Guid> servedReservations, CancellationToken ct)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(await _app.GetConnectionStringAsync("billingdb", ct)) { Pooling = false }.ConnectionString;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        var wallets = users.Select(u => u.UserId).ToArray();
        await using var open = new NpgsqlCommand("SELECT count(*), COALESCE(sum(amount), 0)::bigint FROM open_holds WHERE wallet_id = ANY($1)", connection);
        open.Parameters.Add(new NpgsqlParameter { Value = wallets });
        long openHolds, openCredits;
        await using (var reader = await open.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            (openHolds, openCredits) = (reader.GetInt64(0), reader.GetInt64(1));
        }
        // A hold captured more than once, whether on time (its pending_id) or late (an id derived from the hold's).
        await using var twice = new NpgsqlCommand("""
            SELECT count(*) FROM (
                SELECT hold FROM (
                    SELECT pending_id AS hold FROM transfers WHERE kind = 'capture' AND wallet_id = ANY($1) AND pending_id IS NOT NULL
                    UNION ALL
                    SELECT h.id FROM transfers h JOIN transfers c ON c.id = md5('late-capture:' || h.id::text)::uuid
                    WHERE h.kind = 'hold' AND h.wallet_id = ANY($1)) captures
                GROUP BY hold HAVING count(*) > 1) doubles
            """, connection);
        twice.Parameters.Add(new NpgsqlParameter { Value = wallets });
        var doubles = (long)(await twice.ExecuteScalarAsync(ct))!;
        // Each answer a client saw complete on /v1 names its reservation (chatcmpl-<id>): charged exactly once.
        await using var served = new NpgsqlCommand("""
            SELECT count(*) FILTER (WHERE n = 0), count(*) FILTER (WHERE n > 1) FROM (
                SELECT (SELECT count(*) FROM transfers c WHERE c.pending_id = r.id AND c.kind = 'capture')
                     + (SELECT count(*) FROM transfers c WHERE c.id = md5('late-capture:' || r.id::text)::uuid) AS n
                FROM unnest($1::uuid[]) AS r(id)) charged
            """, connection);
        served.Parameters.Add(new NpgsqlParameter { Value = servedReservations.ToArray() });
        await using var answers = await served.ExecuteReaderAsync(ct);
        await answers.ReadAsync(ct);
        return new LedgerFacts(openHolds, openCredits, doubles, answers.GetInt64(0), answers.GetInt64(1));
    }

    // ---- processes -------------------------------------------------------------------------------------------------

    /// <summary>The process a resource runs as now, as the orchestrator started it (with replicas, its first instance's).</summary>
    public int? Pid(string resource) => Pids(resource).Cast<int?>().FirstOrDefault();

    /// <summary>The running processes of a resource's instances (one each), in the order of their orchestrator ids.</summary>
    public IReadOnlyList<int> Pids(string resource) =>
        [.. _instances.Where(i => i.Value.Resource == resource).OrderBy(i => i.Key, StringComparer.Ordinal)
            .Select(i => i.Value.Snapshot)
            .Where(snapshot => snapshot.State?.Text == KnownResourceStates.Running)
            .Select(snapshot => snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } value
                && int.TryParse(value.ToString(), out var pid) && IsAlive(pid) ? pid : 0)
            .Where(pid => pid > 0)];

    /// <summary>
    /// Where each running instance of a service listens itself, rather than the port that spreads connections over
    /// them (with one instance, the same address as <see cref="Endpoint"/>).
    /// </summary>
    public IReadOnlyList<Uri> InstanceEndpoints(string resource) =>
        [.. Pids(resource).Select(pid => File.ReadAllText($"/proc/{pid}/environ").Split('\0')
            .Select(variable => variable.Split('=', 2))
            .Where(pair => pair is ["ASPNETCORE_URLS", _])
            .Select(pair => new Uri(pair[1].Split(';')[0]))
            .Single())];

    /// <summary>The resource's running processes and every process under them (Postgres: its backends); none when it is not running.</summary>
    public IReadOnlyList<int> Processes(string resource) => [.. Pids(resource).SelectMany(Descendants)];

    /// <summary>
    /// kill -9 of the resource's process (RabbitMQ: the Erlang VM, which is the broker); answers when the orchestrator
    /// has started it again and it is ready, and when that was.
    /// </summary>
    public async Task<FaultTiming> KillAsync(string resource, CancellationToken ct)
    {
        var pid = await RunningPidAsync(resource, ct);
        var injected = DateTimeOffset.UtcNow;
        // The resource's own process alone, as a crash would end it (for RabbitMQ the Erlang VM itself: its helpers die with it).
        Signal(pid, Sigkill);
        var clock = Stopwatch.StartNew();
        while (Pid(resource) is not { } next || next == pid)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException($"{resource} did not run again within 2 minutes of being killed.");
            }
            await Task.Delay(50, ct);
        }
        await WaitReadyAsync(resource, TimeSpan.FromMinutes(2), ct);
        return new FaultTiming($"kill -9 {resource}", injected, DateTimeOffset.UtcNow);
    }

    /// <summary>SIGSTOP for <paramref name="stall"/>, then SIGCONT: the process is back the moment it runs again.</summary>
    public async Task<FaultTiming> StallAsync(string resource, TimeSpan stall, CancellationToken ct)
    {
        var pid = await RunningPidAsync(resource, ct);
        var injected = DateTimeOffset.UtcNow;
        Signal(pid, Sigstop);
        try
        {
            await Task.Delay(stall, ct);
        }
        finally
        {
            Signal(pid, Sigcont);
        }
        return new FaultTiming($"stall {resource} {stall.TotalSeconds:0} s", injected, DateTimeOffset.UtcNow);
    }

    /// <summary>Restarts every instance of a service through the orchestrator and waits until each is ready again.</summary>
    public async Task RestartAsync(string resource, CancellationToken ct)
    {
        var before = Pids(resource);
        foreach (var id in _instances.Where(i => i.Value.Resource == resource).Select(i => i.Key).ToList())
        {
            var restarted = await _app.ResourceCommands.ExecuteCommandAsync(id, KnownResourceCommands.RestartCommand, ct);
            if (!restarted.Success)
            {
                throw new InvalidOperationException($"Restarting {id} failed: {restarted.Message}");
            }
        }
        var clock = Stopwatch.StartNew();
        while (Pids(resource) is var now && (now.Count < before.Count || now.Intersect(before).Any()))
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(1))
            {
                throw new TimeoutException($"{resource} was not running again within a minute of its restart.");
            }
            await Task.Delay(100, ct);
        }
        await WaitReadyAsync(resource, TimeSpan.FromMinutes(1), ct);
    }

    public async Task WaitReadyAsync(string resource, TimeSpan within, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (!await ReadyAsync(resource, ct))
        {
            if (clock.Elapsed > within)
            {
                throw new TimeoutException($"{resource} was not ready within {within.TotalSeconds:0} s.");
            }
            await Task.Delay(100, ct);
        }
    }

    private async Task<int> RunningPidAsync(string resource, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        int? pid;
        while ((pid = Pid(resource)) is null)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(1))
            {
                throw new TimeoutException($"{resource} has no running process.");
            }
            await Task.Delay(100, ct);
        }
        return pid.Value;
    }

    // A service: its own readiness (database, broker) answered directly. RabbitMQ: its management API says the AMQP
    // listener is up, as the AppHost's health check asks.
    private async Task<bool> ReadyAsync(string resource, CancellationToken ct)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            if (resource == "rabbitmq")
            {
                var server = _app.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<LocalRabbitMQServer>().Single();
                using var management = await server.ManagementClientAsync(timeout.Token);
                using var listening = await management.GetAsync($"api/health/checks/port-listener/{server.Ports.Amqp}", timeout.Token);
                return listening.IsSuccessStatusCode;
            }
            // Every instance, each on its own port (the shared one would answer for any of them).
            var endpoints = InstanceEndpoints(resource);
            foreach (var endpoint in endpoints)
            {
                using var response = await Http.GetAsync(new Uri(endpoint, "/health/readiness"), timeout.Token);
                if (!response.IsSuccessStatusCode) return false;
            }
            return endpoints.Count > 0;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    // Each resource instance that is not running and healthy, with its state ("rabbitmq Running/Unhealthy, chat-xkqzr
    // Waiting"): the notifications replay every instance's latest state first.
    private static async Task<string> StatesAsync(DistributedApplication app)
    {
        var latest = new Dictionary<string, CustomResourceSnapshot>();
        using var replay = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await foreach (var e in app.ResourceNotifications.WatchAsync(replay.Token))
            {
                latest[e.ResourceId] = e.Snapshot;
            }
        }
        catch (OperationCanceledException)
        {
        }
        var waiting = latest.Where(i => i.Value.State?.Text != KnownResourceStates.Running || i.Value.HealthStatus is not (null or HealthStatus.Healthy))
            .OrderBy(i => i.Key, StringComparer.Ordinal).Select(i => $"{i.Key} {i.Value.State?.Text ?? "unknown"}{(i.Value.HealthStatus is { } health ? "/" + health : "")}");
        return string.Join(", ", waiting) is { Length: > 0 } list ? list : "none";
    }

    private async Task WatchAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var e in _app.ResourceNotifications.WatchAsync(ct))
            {
                _instances[e.ResourceId] = (e.Resource.Name, e.Snapshot);
                if (e.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } value && int.TryParse(value.ToString(), out var pid))
                {
                    lock (_seenPids)
                    {
                        _seenPids.Add(pid);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private static void Signal(int pid, int signal)
    {
        if (SendSignal(pid, signal) != 0 && IsAlive(pid))
        {
            throw new InvalidOperationException($"Signal {signal} to {pid} failed (errno {Marshal.GetLastPInvokeError()}).");
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            return !File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return false;
        }
    }

    private static int Parent(int pid)
    {
        try { return int.Parse(File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].Split(' ')[1]); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { return 0; }
    }

    private static List<int> Descendants(int ancestor)
    {
        var parents = Directory.EnumerateDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0).Where(pid => pid > 0)
            .ToDictionary(pid => pid, Parent);
        var found = new List<int> { ancestor };
        for (var i = 0; i < found.Count; i++)
        {
            found.AddRange(parents.Where(p => p.Value == found[i]).Select(p => p.Key));
        }
        return found;
    }

    /// <summary>Stops everything it started, and makes sure no process of this run outlives it.</summary>
    public async ValueTask DisposeAsync()
    {
        List<int> started;
        lock (_seenPids)
        {
            // The servers' own children (postgres workers, beam.smp, epmd) with them.
            started = [.. _seenPids.Where(IsAlive).SelectMany(Descendants).Distinct()];
        }
        await _watching.CancelAsync();
        try
        {
            await _app.StopAsync();
        }
        finally
        {
            await _app.DisposeAsync();
            Http.Dispose();
            await _watcher;
        }
        var clock = Stopwatch.StartNew();
        while (started.Any(IsAlive) && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(200);
        }
        LeftBehind = [.. started.Where(IsAlive)];
        foreach (var pid in LeftBehind)
        {
            SendSignal(pid, Sigkill);
        }
        DeleteFolder(_root);
    }

    private static void DeleteFolder(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file still held open only leaves litter in the temp folder.
        }
    }

    /// <summary>After disposal: processes of this run still running 30 s after the orchestrator stopped, killed then (should be none).</summary>
    public IReadOnlyList<int> LeftBehind { get; private set; } = [];

    private sealed class AdministratorSlot
    {
        public Guid? UserId { get; set; }
    }
}

/// <summary>A caller: an access token for /api, an sk_live_ key for /v1.</summary>
public sealed record FaultUser(string Name, Guid UserId, string AccessToken, string ApiKey)
{
    public string Email { get; init; } = "";

    public Guid OrganizationId { get; init; }

    public Guid ApiKeyId { get; init; }

    public HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AccessToken);
        return request;
    }
}

public sealed record DashboardAddress(Uri Url, string BrowserToken);

public sealed record Wallet(long Balance, long Held, long Available);

public sealed record Charges(int Count, long Credits);

public sealed record FaultTiming(string Fault, DateTimeOffset InjectedAt, DateTimeOffset BackAt)
{
    public TimeSpan Down => BackAt - InjectedAt;
}

public sealed record LedgerFacts(long OpenHolds, long OpenHeldCredits, long HoldsCapturedTwice, long ServedUncharged, long ServedChargedTwice);
