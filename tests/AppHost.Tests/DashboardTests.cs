using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Hosting.Processes;
using Microsoft.Playwright;

namespace Gateway.AppHost.Tests;

/// <summary>
/// The ops dashboard in a real browser (Debian's Chromium driven by Playwright), against the real AppHost and the whole
/// stack. Each test leaves a screenshot of its page in TestResults/dashboard/ and as a test attachment.
/// </summary>
public sealed class DashboardTests(DashboardHost host) : IClassFixture<DashboardHost>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Without_the_printed_link_there_is_only_a_login_prompt_and_the_link_signs_in()
    {
        await using var context = await host.Browser.NewContextAsync();
        var page = await context.NewPageAsync();

        var first = await page.GotoAsync(host.App.DashboardUrl);
        Assert.Equal(401, first!.Status);
        await Assertions.Expect(page.GetByTestId("login")).ToBeVisibleAsync();
        Assert.Equal(0, await page.GetByTestId("resources").CountAsync());
        var api = await context.APIRequest.GetAsync(host.App.DashboardUrl + "/api/resources");
        Assert.Equal(401, api.Status);

        await page.GotoAsync(host.App.DashboardUrl + "/login?t=not-the-token");
        await Assertions.Expect(page.GetByTestId("login")).ToBeVisibleAsync();

        await page.GetByLabel("browser token").FillAsync(host.Token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("resources")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task The_resources_page_lists_every_resource_running_and_healthy_with_its_vitals()
    {
        var page = await host.SignedInPageAsync();
        await page.GotoAsync(host.App.DashboardUrl + "/#resources");

        string[] everything = ["postgres", "redis", "rabbitmq", "identitydb", "keysdb", "billingdb", "chatdb", "devicesdb", "mockllm", "identity", "keys", "billing", "chat", "devices", "edge"];
        foreach (var name in everything)
        {
            var row = page.Locator($"tr[data-resource='{name}']");
            await Assertions.Expect(row.GetByTestId("state")).ToHaveTextAsync("Running");
            await Assertions.Expect(row.GetByTestId("health")).ToHaveTextAsync("Healthy", new() { Timeout = 15_000 });
        }
        var edge = page.Locator("tr[data-resource='edge']");
        await Assertions.Expect(edge.GetByRole(AriaRole.Link, new() { Name = host.App.EdgeUrl + "/docs" })).ToBeVisibleAsync();
        await Assertions.Expect(edge).ToContainTextAsync("MiB", new() { Timeout = 10_000 });
        await Assertions.Expect(edge).ToContainTextAsync("%");
        await host.ScreenshotAsync(page, "resources");
    }

    [Fact]
    public async Task A_chat_request_through_the_edge_is_one_trace_with_spans_from_edge_chat_and_billing()
    {
        using var user = await host.RegisterUserAsync();
        using var chat = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = JsonContent.Create(new { message = "Show me a trace" }) };
        chat.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var answer = await user.SendAsync(chat, Ct);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);

        var page = await host.SignedInPageAsync();
        var traceId = await host.EventuallyAsync(async () =>
        {
            var traces = await page.APIRequest.GetAsync(host.App.DashboardUrl + "/api/telemetry/traces?service=edge&limit=200");
            var list = JsonDocument.Parse(await traces.TextAsync()).RootElement;
            return list.EnumerateArray()
                .Where(t => t.GetProperty("services").EnumerateArray().Select(s => s.GetString()).ToHashSet() is var services
                    && services.IsSupersetOf(["edge", "chat", "billing"]))
                .Select(t => t.GetProperty("traceId").GetString())
                .FirstOrDefault();
        }, TimeSpan.FromSeconds(30));

        await page.GotoAsync($"{host.App.DashboardUrl}/#traces?traceId={traceId}");
        var services = page.GetByTestId("trace-services");
        foreach (var service in new[] { "edge", "chat", "billing" })
        {
            await Assertions.Expect(services.Locator($"[data-service='{service}']")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator($".span-row[data-span-service='{service}']").First).ToBeVisibleAsync();
        }
        await host.ScreenshotAsync(page, "trace");

        // Billing logs at Information only while starting. Once (in two sessions' CI runs) the dashboard had none of
        // them: say what it did have, so the cause can be found.
        var billingLogs = $"{host.App.DashboardUrl}/api/telemetry/logs?service=billing&level=Information&limit=5";
        if (!await host.WithinAsync(async () => (await (await page.APIRequest.GetAsync(billingLogs)).JsonAsync())?.GetArrayLength() > 0, TimeSpan.FromSeconds(30)))
        {
            var all = (await (await page.APIRequest.GetAsync($"{host.App.DashboardUrl}/api/telemetry/logs?limit=10000")).JsonAsync())!.Value;
            var held = all.EnumerateArray().GroupBy(e => $"{e.GetProperty("service")} {e.GetProperty("level")}").Select(g => $"{g.Key}: {g.Count()}");
            Assert.Fail($"The dashboard holds no Information log from billing. It holds: {string.Join(", ", held)}");
        }
        await page.GotoAsync($"{host.App.DashboardUrl}/#logs");
        await page.Locator("#logs-service").SelectOptionAsync("billing");
        await page.Locator("#logs-level").SelectOptionAsync("Information");
        var rows = page.GetByTestId("logs").Locator("tbody tr");
        await Assertions.Expect(rows.First).ToContainTextAsync("billing", new() { Timeout = 30_000 });
        Assert.All(await rows.AllInnerTextsAsync(), row => Assert.Contains("billing", row, StringComparison.Ordinal));
        await host.ScreenshotAsync(page, "logs");

        await page.GotoAsync($"{host.App.DashboardUrl}/#metrics");
        await Assertions.Expect(page.GetByTestId("chart-rps").Locator("svg")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByTestId("chart-credits").Locator("svg")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByTestId("chart-queues").Locator("svg")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await host.ScreenshotAsync(page, "metrics");
    }

    [Fact]
    public async Task An_invitation_link_points_at_the_public_url_the_AppHost_was_given()
    {
        using var owner = await host.RegisterUserAsync();

        using var invite = await owner.PostAsJsonAsync("/api/users/invite", new { email = $"invitee-{Guid.NewGuid():N}@example.com", role = "member" }, Ct);

        Assert.Equal(HttpStatusCode.Created, invite.StatusCode);
        // Development logs the mail it would send, link included.
        await host.App.WaitForLineAsync($"{host.App.EdgeUrl.TrimEnd('/')}/accept-invite?token=", TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task A_console_line_appears_live_and_a_restart_from_the_page_brings_the_resource_back()
    {
        var page = await host.SignedInPageAsync();
        await page.GotoAsync(host.App.DashboardUrl + "/#console?resource=devices");
        var console = page.GetByTestId("console-lines");
        await Assertions.Expect(console).ToContainTextAsync("ready in");

        var resources = await host.SignedInPageAsync();
        await resources.GotoAsync(host.App.DashboardUrl + "/#resources");
        var row = resources.Locator("tr[data-resource='devices']");
        await Assertions.Expect(row.GetByTestId("health")).ToHaveTextAsync("Healthy", new() { Timeout = 15_000 });
        var pid = await row.Locator("td.mono").InnerTextAsync();
        await row.Locator("button[data-command='restart']").ClickAsync();

        // The page that was already open shows the AppHost's lines about it as they happen.
        await Assertions.Expect(console).ToContainTextAsync("restart requested from the dashboard", new() { Timeout = 10_000 });
        await Assertions.Expect(console).ToContainTextAsync("stopped in", new() { Timeout = 20_000 });
        await host.ScreenshotAsync(page, "console");

        await Assertions.Expect(row.GetByTestId("state")).ToHaveTextAsync("Running", new() { Timeout = 60_000 });
        await Assertions.Expect(row.GetByTestId("health")).ToHaveTextAsync("Healthy", new() { Timeout = 30_000 });
        Assert.NotEqual(pid, await row.Locator("td.mono").InnerTextAsync());
        using var readiness = await host.Http.GetAsync(host.App.EdgeUrl + "/health/readiness", Ct);
        Assert.Equal(HttpStatusCode.OK, readiness.StatusCode);
        await host.ScreenshotAsync(resources, "restarted");
    }
}

/// <summary>The dashboard keeps a bounded window of telemetry however much traffic the system sees.</summary>
public sealed class DashboardMemoryTests(DashboardHost host) : IClassFixture<DashboardHost>
{
    // The default window: 10,000 spans and 10,000 log records (about 2 KB each with their attributes), plus a minute-
    // bucketed hour of metrics; what the AppHost may grow by once traffic has filled it is that window.
    private const long WindowBytes = 64L << 20;

    [Fact]
    public async Task After_10000_requests_through_the_edge_the_AppHost_grows_by_no_more_than_its_telemetry_window()
    {
        using var user = await host.RegisterUserAsync();
        var before = ResidentBytes(host.App.Process.Id);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await SendAsync(user, 10_000);
        var sent = clock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken); // the last exports arrive
        var after = ResidentBytes(host.App.Process.Id);

        var figure = $"10,000 requests in {sent.TotalSeconds:0.0} s; AppHost RSS {before >> 20} MiB -> {after >> 20} MiB ({(after - before) / (double)(1 << 20):+0.0;-0.0} MiB)";
        TestContext.Current.TestOutputHelper?.WriteLine(figure);
        TestContext.Current.AddAttachment("memory", figure);
        Assert.True(after - before <= WindowBytes, $"The AppHost grew by {(after - before) >> 20} MiB, more than its {WindowBytes >> 20} MiB window.");
    }

    private static async Task SendAsync(HttpClient user, int count)
    {
        var left = count;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            while (Interlocked.Decrement(ref left) >= 0)
            {
                using var response = await user.GetAsync("/api/user", TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }));
    }

    private static long ResidentBytes(int pid) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
}

/// <summary>One AppHost and one headless Chromium shared by the dashboard's tests.</summary>
public sealed class DashboardHost : IAsyncLifetime
{
    private readonly string root = Directory.CreateTempSubdirectory("gateway-dashboard-").FullName;
    private IPlaywright? playwright;
    private IBrowserContext? signedIn;

    public AppHostProcess App { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };
    public string LoginUrl { get; private set; } = "";
    public string Token => LoginUrl[(LoginUrl.IndexOf("?t=", StringComparison.Ordinal) + 3)..];

    public async ValueTask InitializeAsync()
    {
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101); // the postgres user must enter it
        App = AppHostProcess.Start(Path.Combine(root, "data"), $"http://127.0.0.1:{FreePort.Next()}", new Dictionary<string, string?>
        {
            // The memory test sends 10,000 requests as one user; the edge inherits this from the AppHost.
            ["Edge__RateLimits__Groups__default__PermitLimit"] = "1000000",
        });
        await App.WaitForLineAsync("All healthy in", TimeSpan.FromSeconds(180));
        var line = await App.WaitForLineAsync("Dashboard:", TimeSpan.FromSeconds(5));
        LoginUrl = line[(line.IndexOf("http", StringComparison.Ordinal))..].Trim();

        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox"] });
        signedIn = await Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1500, Height = 950 } });
        var page = await signedIn.NewPageAsync();
        await page.GotoAsync(LoginUrl);
        await page.CloseAsync();
    }

    /// <summary>A new tab in the browser that opened the printed login link.</summary>
    public Task<IPage> SignedInPageAsync() => signedIn!.NewPageAsync();

    /// <summary>A new user, signed up through the edge, with a client that carries their access token.</summary>
    public async Task<HttpClient> RegisterUserAsync()
    {
        var client = new HttpClient { BaseAddress = new Uri(App.EdgeUrl), Timeout = TimeSpan.FromSeconds(30) };
        using var response = await client.PostAsJsonAsync("/api/auth/register",
            new { email = $"user-{Guid.NewGuid():N}@example.com", password = "correct-Horse-9", name = "Dashboard Test" }, TestContext.Current.CancellationToken);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body.GetProperty("accessToken").GetString());
        // The sign-up grant arrives over RabbitMQ.
        await EventuallyAsync(async () => (await client.GetFromJsonAsync<JsonElement>("/api/tokens/balance")).GetProperty("available").GetInt64() > 0 ? "granted" : null,
            TimeSpan.FromSeconds(15));
        return client;
    }

    public async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, TimeSpan timeout) where T : class
    {
        T? value = null;
        Assert.True(await WithinAsync(async () => (value = await probe()) is not null, timeout), $"Nothing came within {timeout.TotalSeconds:0} s.");
        return value!;
    }

    // Polls until the probe holds; false once the time is up.
    public async Task<bool> WithinAsync(Func<Task<bool>> probe, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await probe())
        {
            if (DateTime.UtcNow >= deadline) return false;
            await Task.Delay(500, TestContext.Current.CancellationToken);
        }
        return true;
    }

    public async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(AppHostProcess.RepositoryRoot(), "TestResults", "dashboard");
        Directory.CreateDirectory(folder);
        var bytes = await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name + ".png"), FullPage = true });
        TestContext.Current.AddAttachment(name + ".png", bytes, "image/png");
    }

    public async ValueTask DisposeAsync()
    {
        if (signedIn is not null)
        {
            await signedIn.DisposeAsync();
        }
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        playwright?.Dispose();
        await App.DisposeAsync();
        Http.Dispose();
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Postgres's files may belong to its own user; the temp folder is cleaned by the system.
        }
    }
}
