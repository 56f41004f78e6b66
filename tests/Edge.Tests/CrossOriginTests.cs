using System.Net;
using Gateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;

namespace Edge.Tests;

// Browser apps on another origin call the edge: preflights are answered at the edge, allowed origins may read the
// answers, others may not, and credentials are never allowed.
public sealed class CrossOriginTests(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    private const string AllowedOrigin = "http://127.0.0.1:3000";
    private WebApplication _pages = null!;
    private GatewaySystem _system = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        // A browser app's page, served from its own origin (this port, on two host names: two origins).
        var pages = WebApplication.CreateSlimBuilder();
        pages.WebHost.UseUrls("http://127.0.0.1:0");
        _pages = pages.Build();
        _pages.MapGet("/", () => Results.Content("<!doctype html><title>app</title>", "text/html"));
        await _pages.StartAsync(Ct);

        // Only Identity behind the edge: a preflight to another service's route can only have been answered by the edge.
        _system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity], settings: new Dictionary<string, string?>
        {
            ["Edge:Cors:AllowedOrigins:0"] = AllowedOrigin,
            ["Edge:Cors:AllowedOrigins:1"] = PageOrigin("127.0.0.1"),
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _system.DisposeAsync();
        await _pages.DisposeAsync();
    }

    private string PageOrigin(string host) => $"http://{host}:{new Uri(_pages.Urls.First()).Port}";

    [Fact]
    public async Task A_preflight_from_an_allowed_origin_is_answered_by_the_edge_with_what_the_browser_asked_for()
    {
        using var client = _system.CreateEdgeClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/chat/completions"); // Chat is not running
        preflight.Headers.Add("Origin", AllowedOrigin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type,idempotency-key,x-api-key,x-stainless-os");

        using var response = await client.SendAsync(preflight, Ct);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(AllowedOrigin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        var allowedHeaders = string.Join(",", response.Headers.GetValues("Access-Control-Allow-Headers")).ToLowerInvariant();
        Assert.All(["authorization", "content-type", "idempotency-key", "x-api-key", "x-stainless-os"], h => Assert.Contains(h, allowedHeaders));
        Assert.Contains("POST", string.Join(",", response.Headers.GetValues("Access-Control-Allow-Methods")));
        Assert.False(response.Headers.Contains("Access-Control-Allow-Credentials"));
    }

    [Fact]
    public async Task A_preflight_from_another_origin_gets_no_permission()
    {
        using var client = _system.CreateEdgeClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/auth/login");
        preflight.Headers.Add("Origin", "http://evil.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");

        using var response = await client.SendAsync(preflight, Ct);

        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task A_page_on_an_allowed_origin_reads_the_edges_answers_in_chromium_and_a_page_on_another_cannot()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        const string Script = """
            async (edge) => {
              try {
                const response = await fetch(edge + '/api/auth/login', {
                  method: 'POST',
                  headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'k-1' },
                  body: JSON.stringify({ email: 'nobody@example.com', password: 'not the password' }),
                });
                const body = await response.json();
                return `${response.status} ${response.headers.get('content-type')} ${body.title}`;
              } catch (e) {
                return 'blocked: ' + e;
              }
            }
            """;
        var edge = _system.Edge.Address.ToString().TrimEnd('/');

        var allowed = await browser.NewPageAsync();
        await allowed.GotoAsync(PageOrigin("127.0.0.1"));
        var answer = await allowed.EvaluateAsync<string>(Script, edge);
        var other = await browser.NewPageAsync();
        await other.GotoAsync(PageOrigin("localhost"));
        var refused = await other.EvaluateAsync<string>(Script, edge);

        Assert.StartsWith("401 application/problem+json", answer);
        Assert.StartsWith("blocked: TypeError", refused);
    }
}
