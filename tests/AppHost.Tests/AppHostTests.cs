using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Gateway.Hosting.Servers;
using Microsoft.Playwright;

namespace Gateway.AppHost.Tests;

/// <summary>The whole system through the real AppHost, run by Aspire.Hosting.Testing: start, seen in the Aspire dashboard, heal, stop.</summary>
public sealed class AppHostTests : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(6); // a bound against a hang: 2 min on a loaded machine
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private static readonly string[] Services = ["identity", "keys", "billing", "chat", "devices", "edge", "mockllm"];
    // As the dashboard lists them.
    private static readonly string[] Resources =
    [
        "postgres", "redis", "rabbitmq", "rabbitmq-epmd",
        "identitydb", "keysdb", "billingdb", "chatdb", "devicesdb",
        "mockllm", "identity", "keys", "billing", "chat", "devices", "edge",
    ];
    private readonly string _root;
    private readonly DateTime _started = DateTime.Now;

    public AppHostTests()
    {
        _root = Directory.CreateTempSubdirectory("gateway-apphost-").FullName;
        File.SetUnixFileMode(_root, (UnixFileMode)0b111_101_101); // the postgres user must enter it
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // One start of the whole system (each costs minutes on a loaded two-core machine), followed through its life.
    [Fact]
    public async Task The_system_runs_from_built_binaries_shows_a_chat_as_one_trace_in_the_Aspire_dashboard_heals_a_killed_service_and_stops_leaving_nothing()
    {
        // The dashboard's OTLP and resource service ports follow its own.
        var (edgeUrl, dashboardUrl, token) = (NewUrl(), $"http://127.0.0.1:{FreePort.Next(3)}", Convert.ToHexString(RandomNumberGenerator.GetBytes(16)));
        var data = Path.Combine(_root, "data");
        List<int> stack;
        await using (var app = await StartAsync(edgeUrl, dashboardUrl, token, data))
        {
            var (status, body) = await DownstreamAsync(edgeUrl);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.All(JsonDocument.Parse(body).RootElement.GetProperty("checks").EnumerateObject(), c => Assert.Equal("healthy", c.Value.GetProperty("status").GetString()));

            // Each project runs as its own built program, not under `dotnet run`, and as in production.
            var projects = Services.ToDictionary(name => name, ProjectProcess);
            var identity = projects["identity"];
            var environment = Environ(identity);
            Assert.Equal("Production", environment["ASPNETCORE_ENVIRONMENT"]);
            Assert.Equal($"{edgeUrl}/accept-invite", environment["Identity__Invitations__AcceptUrl"]);
            Assert.DoesNotContain(Process.GetProcesses(), p => Cmdline(p.Id).Contains("run --no-build", StringComparison.Ordinal) && Cmdline(p.Id).Contains(_root));

            await ChatAsync(edgeUrl);
            await DashboardShowsTheSystemAsync(app, dashboardUrl, token, data);

            Process.GetProcessById(identity).Kill();
            await WaitForDownstreamAsync(edgeUrl, s => s != HttpStatusCode.OK, TimeSpan.FromSeconds(30));
            await WaitForDownstreamAsync(edgeUrl, s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(90));
            Assert.NotEqual(identity, ProjectProcess("identity"));

            stack = [.. Services.Select(ProjectProcess), .. Servers(ProjectProcess("keys"))];
            Assert.True(Services.Length + 4 == stack.Count, "Services and postgres, redis-server, beam.smp, epmd expected: " + string.Join(", ", stack.Select(pid => $"{pid} {Cmdline(pid).Replace('\0', ' ')}")));
        }

        var clock = Stopwatch.StartNew();
        while (stack.Any(IsAlive) && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(200, Ct);
        }
        Assert.True(!stack.Any(IsAlive), "Still running: " + string.Join(", ", stack.Where(IsAlive).Select(pid => $"{pid} {Cmdline(pid)}")));
    }

    [Fact]
    public async Task Publishing_describes_the_servers_as_Aspire_s_stock_containers_and_every_reference_by_name()
    {
        var manifest = await AspireManifest.PublishAsync(_root, Ct);

        var resources = JsonDocument.Parse(await File.ReadAllTextAsync(manifest, Ct)).RootElement.GetProperty("resources");
        Assert.StartsWith("container.", resources.GetProperty("postgres").GetProperty("type").GetString());
        Assert.Contains("postgres", resources.GetProperty("postgres").GetProperty("image").GetString());
        Assert.Contains("redis", resources.GetProperty("redis").GetProperty("image").GetString());
        Assert.Contains("rabbitmq", resources.GetProperty("rabbitmq").GetProperty("image").GetString());
        Assert.Equal("value.v0", resources.GetProperty("billingdb").GetProperty("type").GetString());
        var billing = resources.GetProperty("billing");
        Assert.Equal("project.v0", billing.GetProperty("type").GetString());
        var env = billing.GetProperty("env");
        Assert.Equal("{billingdb.connectionString}", env.GetProperty("ConnectionStrings__billingdb").GetString());
        Assert.Equal("{rabbitmq.connectionString}", env.GetProperty("ConnectionStrings__rabbitmq").GetString());
        Assert.Equal("{caller-token-key.value}", env.GetProperty("Gateway__CallerToken__Key").GetString());
        Assert.Equal("{redis.connectionString}", resources.GetProperty("edge").GetProperty("env").GetProperty("ConnectionStrings__redis").GetString());
        Assert.Contains(resources.GetProperty("edge").GetProperty("bindings").EnumerateObject(), b => b.Value.TryGetProperty("external", out var external) && external.GetBoolean());
    }

    // The device trial's second system was given the dashboard port after the first's, whose telemetry endpoint (the
    // next port) already held it: Aspire failed part-way through starting, with a hundred lines of stack trace.
    [Fact]
    public async Task A_port_another_program_holds_is_named_in_one_line_before_anything_starts()
    {
        using var holder = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var held = ((IPEndPoint)holder.LocalEndpoint).Port;
        var build = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // …/bin/<Debug|Release>/net10.0/
        var appHost = Path.Combine(Projects.Gateway_AppHost.ProjectPath, "bin", build, "net10.0", "Gateway.AppHost.dll");
        Assert.True(File.Exists(appHost), appHost);
        var start = new ProcessStartInfo("dotnet",
            [appHost, "--data", Path.Combine(_root, "data"), "--edge-url", NewUrl(), "--dashboard-url", $"http://127.0.0.1:{held - 1}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(Ct);
        var error = process.StandardError.ReadToEndAsync(Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
        }

        Assert.Equal(1, process.ExitCode);
        Assert.Equal($"Port {held}, for the dashboard's telemetry endpoint (--dashboard-url's port + 1), is in use by another program: stop it, or choose another URL.",
            (await error).Trim());
        Assert.DoesNotContain("Exception", await output);
    }

    private static string NewUrl() => $"http://127.0.0.1:{FreePort.Next()}";

    // The AppHost as ./run.sh starts it, with Aspire's dashboard at a known address and browser token.
    private static async Task<DistributedApplication> StartAsync(string edgeUrl, string dashboardUrl, string token, string data)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Gateway_AppHost>(
            ["--data", data, "--edge-url", edgeUrl, "--dashboard-url", dashboardUrl, $"--ASPIRE_DASHBOARD_FRONTEND_BROWSERTOKEN={token}"],
            (options, _) => options.DisableDashboard = false,
            Ct);
        // The testing builder moves the dashboard and proxied endpoints to random ports; keep them where the
        // arguments put them, as run.sh does.
        builder.Configuration["DcpPublisher:RandomizePorts"] = "false";
        var app = await builder.BuildAsync(Ct);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(StartTimeout);
            await app.StartAsync(timeout.Token);
            await app.ResourceNotifications.WaitForResourceHealthyAsync("edge", timeout.Token);
            return app;
        }
        catch
        {
            // A start that failed still started processes: none may outlive the test (they would slow every later one).
            await app.DisposeAsync();
            throw;
        }
    }

    // One chat request through the edge, as a new user.
    private static async Task ChatAsync(string edgeUrl)
    {
        // The first chat of a just-started system compiles most of Chat's code: seconds when the machine is quiet,
        // tens of seconds when two cores are shared with other test runs (docs/running.md, "Measured here").
        using var http = new HttpClient { BaseAddress = new Uri(edgeUrl), Timeout = TimeSpan.FromMinutes(2) };
        var register = await http.PostAsJsonAsync("/api/auth/register", new { email = $"trace-{Guid.NewGuid():N}@example.com", password = "correct-Horse-9", name = "Trace" }, Ct);
        var registered = await register.Content.ReadAsStringAsync(Ct);
        Assert.True(register.IsSuccessStatusCode, registered);
        var accessToken = JsonDocument.Parse(registered).RootElement.GetProperty("accessToken").GetString();
        // The first reservation of a just-started system can take Billing longer than Chat waits (5 s) on a loaded
        // machine: Chat then answers 503 "try again shortly", charging nothing, and so does this test, a few times.
        HttpResponseMessage chat;
        for (var attempt = 1; ; attempt++)
        {
            using var chatRequest = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = JsonContent.Create(new { message = "Show me a trace" }) };
            chatRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            chatRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            chat = await http.SendAsync(chatRequest, Ct);
            if (chat.StatusCode != HttpStatusCode.ServiceUnavailable || attempt == 5) break;
            chat.Dispose();
            await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        }
        using (chat)
        {
            Assert.True(chat.IsSuccessStatusCode, $"{(int)chat.StatusCode} {await chat.Content.ReadAsStringAsync(Ct)}");
        }
    }

    // The dashboard, through headless Chromium: every resource running, the chat request as one trace with spans from
    // edge, chat and billing, Billing's logs and meter; its telemetry kept in the data folder.
    private static async Task DashboardShowsTheSystemAsync(DistributedApplication app, string dashboardUrl, string token, string data)
    {
        // Exported every 5 s (Gateway.Hosting's WithDashboardTelemetry), not every second as Aspire sets for development.
        var chat = await app.ResourceNotifications.WaitForResourceHealthyAsync("chat", Ct);
        foreach (var interval in new[] { "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BLRP_SCHEDULE_DELAY", "OTEL_METRIC_EXPORT_INTERVAL" })
        {
            Assert.Contains(chat.Snapshot.EnvironmentVariables, variable => variable.Name == interval && variable.Value == "5000");
        }

        await using var browser = await DashboardBrowser.SignInAsync(dashboardUrl, token);
        var resources = await browser.OpenAsync("/");
        foreach (var resource in Resources)
        {
            var row = resources.GetByRole(AriaRole.Row).Filter(new() { Has = resources.GetByText(resource, new() { Exact = true }) });
            await Assertions.Expect(row.First).ToContainTextAsync("Running", new() { Timeout = 30_000 });
        }
        await browser.ScreenshotAsync("resources.png");

        await browser.FindTraceAsync("edge: POST /api/chat", ["edge", "chat", "billing"], TimeSpan.FromSeconds(120));
        await browser.ScreenshotAsync("trace.png");

        var logs = await browser.OpenAsync("/structuredlogs/resource/billing");
        await Assertions.Expect(logs.GetByRole(AriaRole.Row).Nth(1)).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await browser.ScreenshotAsync("billing-logs.png");
        var metrics = await browser.OpenAsync("/metrics/resource/billing");
        await Assertions.Expect(metrics.GetByText("Gateway.Billing", new() { Exact = true }).First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await browser.ScreenshotAsync("billing-metrics.png");

        var telemetry = Path.Combine(data, "dashboard");
        Assert.True(Directory.Exists(telemetry) && Directory.EnumerateFiles(telemetry, "*", SearchOption.AllDirectories).Any(), "Nothing in " + telemetry);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    // The process started from the project's own bin folder, its first argument the program itself.
    private int ProjectProcess(string resource)
    {
        var folder = Repository + resource switch
        {
            "edge" => "/gateway/Yarp/bin/",
            "mockllm" => "/tools/MockLlm/bin/",
            _ => $"/services/{char.ToUpperInvariant(resource[0])}{resource[1..]}/bin/",
        };
        // Started by this test's own orchestrator (DCP runs detached, monitoring this process): other test assemblies run
        // systems of their own from the same binaries at the same time.
        var matches = Process.GetProcesses().Where(p => Cmdline(p.Id).Split('\0')[0].Contains(folder, StringComparison.Ordinal)
            && Environ(p.Id).GetValueOrDefault("OTEL_SERVICE_NAME") == resource
            && p.StartTime >= _started && IsOurs(p.Id)).Select(p => p.Id).ToList();
        return Assert.Single(matches);
    }

    private static bool IsOurs(int pid)
    {
        var monitor = $"--monitor\0{Environment.ProcessId}\0";
        for (var current = pid; current > 1; current = ParentOf(current))
        {
            if (current == Environment.ProcessId || Cmdline(current).Contains(monitor, StringComparison.Ordinal)) return true;
        }
        return false;
    }

    private static int ParentOf(int pid)
    {
        try { return int.Parse(File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].Split(' ')[1]); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { return 0; }
    }

    // This checkout: tests/AppHost.Tests/bin/<configuration>/net10.0/ is five folders down.
    private static readonly string Repository = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../.."));

    // The servers among what this run's orchestrator (the parent of its services) started.
    private static IEnumerable<int> Servers(int service)
    {
        var parents = Directory.EnumerateDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0).Where(pid => pid > 0)
            .Select(pid => (Pid: pid, Parent: Parent(pid))).ToList();
        var orchestrator = Parent(service);
        var descendants = new HashSet<int> { orchestrator };
        for (var grown = true; grown;)
        {
            grown = false;
            foreach (var (pid, parent) in parents.Where(p => descendants.Contains(p.Parent) && !descendants.Contains(p.Pid)))
            {
                grown = descendants.Add(pid);
            }
        }
        return descendants.Where(pid => Cmdline(pid).Split('\0')[0] is var program
            && (program.EndsWith("/postgres", StringComparison.Ordinal) || program.EndsWith("/beam.smp", StringComparison.Ordinal)
                || program.EndsWith("/epmd", StringComparison.Ordinal) || program.StartsWith("/usr/bin/redis-server", StringComparison.Ordinal))
            && Parent(pid) is var parent && !Cmdline(parent).Split('\0')[0].EndsWith("/postgres", StringComparison.Ordinal)); // the postmaster, not its workers
    }

    private static int Parent(int pid)
    {
        try { return int.Parse(File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].Split(' ')[1]); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { return 0; }
    }

    private static string Cmdline(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    private static Dictionary<string, string?> Environ(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries)
                .Select(v => v.Split('=', 2)).Where(kv => kv.Length == 2).GroupBy(kv => kv[0]).ToDictionary(g => g.Key, g => (string?)g.First()[1]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ");

    private static async Task<(HttpStatusCode Status, string Body)> DownstreamAsync(string edgeUrl)
    {
        try
        {
            using var response = await Http.GetAsync($"{edgeUrl}/health/downstream", Ct);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
        }
        catch (HttpRequestException e)
        {
            return (0, e.Message);
        }
    }

    private static async Task WaitForDownstreamAsync(string edgeUrl, Func<HttpStatusCode, bool> expected, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var (status, body) = await DownstreamAsync(edgeUrl);
        while (!expected(status))
        {
            Assert.True(clock.Elapsed < timeout, $"The edge's downstream report stayed {(int)status} for {timeout.TotalSeconds:0} s: {body}");
            await Task.Delay(100, Ct);
            (status, body) = await DownstreamAsync(edgeUrl);
        }
    }
}
