using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Gateway.Hosting.Servers;
using Microsoft.Playwright;

namespace Gateway.AppHost.Tests;

/// <summary>The real AppHost with Aspire's real dashboard, looked at through headless Chromium.</summary>
public sealed class DashboardTests : IDisposable
{
    private static readonly string[] Resources =
    [
        "postgres", "redis", "rabbitmq", "rabbitmq-epmd",
        "identitydb", "keysdb", "billingdb", "chatdb", "devicesdb",
        "mockllm", "identity", "keys", "billing", "chat", "devices", "edge",
    ];

    private readonly string _root;

    public DashboardTests()
    {
        _root = Directory.CreateTempSubdirectory("gateway-dashboard-").FullName;
        File.SetUnixFileMode(_root, (UnixFileMode)0b111_101_101); // the postgres user must enter it
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_chat_request_through_the_edge_is_one_trace_with_spans_from_edge_chat_and_billing_in_the_Aspire_dashboard()
    {
        var (dashboardUrl, token, data) = (NewUrl(), Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), Path.Combine(_root, "data"));
        await using var app = await StartAsync(dashboardUrl, token, data);
        await ChatAsync(app);
        // Exported every 5 s (Gateway.Hosting's WithDashboardTelemetry), not every second as Aspire sets for development.
        var chat = await app.ResourceNotifications.WaitForResourceHealthyAsync("chat", Ct);
        foreach (var interval in new[] { "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BLRP_SCHEDULE_DELAY", "OTEL_METRIC_EXPORT_INTERVAL" })
        {
            Assert.Contains(chat.Snapshot.EnvironmentVariables, variable => variable.Name == interval && variable.Value == "5000");
        }

        await using var browser = await DashboardBrowser.SignInAsync(dashboardUrl, token);

        // Every resource listed as running.
        var resources = await browser.OpenAsync("/");
        foreach (var resource in Resources)
        {
            var row = resources.GetByRole(AriaRole.Row).Filter(new() { Has = resources.GetByText(resource, new() { Exact = true }) });
            await Assertions.Expect(row.First).ToContainTextAsync("Running", new() { Timeout = 30_000 });
        }
        await browser.ScreenshotAsync("resources.png");

        // The chat request as one trace with spans from edge, chat and billing.
        await OneTraceAsync(browser, "trace.png");

        // Billing's structured logs and its Gateway.Billing meter reach the dashboard.
        var logs = await browser.OpenAsync("/structuredlogs/resource/billing");
        await Assertions.Expect(logs.GetByRole(AriaRole.Row).Nth(1)).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await browser.ScreenshotAsync("billing-logs.png");
        var metrics = await browser.OpenAsync("/metrics/resource/billing");
        await Assertions.Expect(metrics.GetByText("Gateway.Billing", new() { Exact = true }).First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await browser.ScreenshotAsync("billing-metrics.png");

        // The dashboard keeps its telemetry in the data folder.
        var telemetry = Path.Combine(data, "dashboard");
        Assert.True(Directory.Exists(telemetry) && Directory.EnumerateFiles(telemetry, "*", SearchOption.AllDirectories).Any(), "Nothing in " + telemetry);
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join("\n", Directory.EnumerateFiles(telemetry, "*", SearchOption.AllDirectories)));
    }

    // Issue 21: whichever instances a request passes through, it is one trace.
    [Fact]
    public async Task With_two_instances_of_each_a_chat_request_is_still_one_trace_in_the_Aspire_dashboard()
    {
        var (dashboardUrl, token, data) = (NewUrl(), Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), Path.Combine(_root, "data"));
        await using var app = await StartAsync(dashboardUrl, token, data, "--replicas", "2");
        await ChatAsync(app);

        await using var browser = await DashboardBrowser.SignInAsync(dashboardUrl, token);
        await OneTraceAsync(browser, "trace-replicas.png");
    }

    private static string NewUrl() => $"http://127.0.0.1:{FreePort.Next()}";

    private static async Task<DistributedApplication> StartAsync(string dashboardUrl, string token, string data, params string[] more)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Gateway_AppHost>(
            ["--data", data, "--edge-url", NewUrl(), "--dashboard-url", dashboardUrl, $"--ASPIRE_DASHBOARD_FRONTEND_BROWSERTOKEN={token}", .. more],
            (options, _) => options.DisableDashboard = false,
            Ct);
        // The testing builder moves the dashboard and proxied endpoints to random ports; keep them where the
        // arguments put them, as run.sh does.
        builder.Configuration["DcpPublisher:RandomizePorts"] = "false";
        var app = await builder.BuildAsync(Ct);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromMinutes(3));
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
    private static async Task ChatAsync(DistributedApplication app)
    {
        using var http = new HttpClient { BaseAddress = app.GetEndpoint("edge", "http"), Timeout = TimeSpan.FromSeconds(30) };
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

    // The chat request as one trace with spans of edge, chat and billing themselves (an instance of each: "chat" or
    // "chat-xkqzr" with replicas).
    private static async Task OneTraceAsync(DashboardBrowser browser, string screenshot)
    {
        var trace = await browser.FindTraceAsync("edge: POST /api/chat", ["edge", "chat", "billing"], TimeSpan.FromSeconds(120));
        foreach (var resource in new[] { "edge", "chat", "billing" })
        {
            // The detail's Resource column: a span of the resource itself, not a call to it.
            var cell = trace.GetByRole(AriaRole.Gridcell).Filter(new() { HasTextRegex = new Regex($@"^\s*{resource}(-[a-z0-9]+)?\s*$") });
            await Assertions.Expect(cell.First).ToBeVisibleAsync();
        }
        await browser.ScreenshotAsync(screenshot);
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
}
