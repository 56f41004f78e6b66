using Gateway.MockLlm;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;

namespace WebConsole.Tests;

[CollectionDefinition(nameof(ConsoleSystem))]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleSystem>;

// The whole system behind the edge (every service; MockLlm, LocalTelegram, FakeOAuthProvider and FakeStripe standing in for
// the model, Telegram, GitHub and Stripe) and Debian's Chromium, headless, opening the
// console at the edge's address as a visitor would. Screenshots go to TestResults/console/ beside the test binary.
public sealed class ConsoleSystem(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    public const long SignUpGrant = 1000;
    public static readonly TimeSpan OfflineAfter = TimeSpan.FromSeconds(5);
    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "TestResults", "console");

    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public GatewaySystem System { get; private set; } = null!;
    public MockLlmServer Model { get; private set; } = null!;
    public LocalTelegram Telegram { get; } = new();
    public FakeOAuthProvider GitHub { get; private set; } = null!;
    public FakeStripe Stripe { get; } = new();

    // The public URL providers send the browser back to, as a proxy in front of the edge would be: Identity must know
    // it before the edge (started last, on a free port) has an address, so this forwards to the edge once it has one.
    private WebApplication _publicUrl = null!;

    public async ValueTask InitializeAsync()
    {
        await Telegram.StartAsync();
        GitHub = await FakeOAuthProvider.StartAsync();
        await Stripe.StartAsync();
        var publicUrl = WebApplication.CreateSlimBuilder();
        publicUrl.WebHost.UseUrls("http://127.0.0.1:0");
        _publicUrl = publicUrl.Build();
        _publicUrl.MapGet("/{**path}", (HttpRequest request) => Results.Redirect(Url(request.Path + request.QueryString)));
        await _publicUrl.StartAsync();
        Model = await MockLlmServer.StartAsync();
        System = await GatewaySystem.StartAsync(infrastructure, settings: new Dictionary<string, string?>(GitHub.Settings("github"))
        {
            // docs/console.md: providers return the browser to a console page, which hands the code to Identity.
            ["Identity:OAuth:CallbackBaseUrl"] = $"{_publicUrl.Urls.First()}/console",
            ["Billing:Stripe:SecretKey"] = FakeStripe.SecretKey,
            ["Billing:Stripe:WebhookSecret"] = FakeStripe.WebhookSecret,
            ["Billing:Stripe:ApiBase"] = Stripe.Address,
            ["Billing:Stripe:SuccessUrl"] = $"{_publicUrl.Urls.First()}/billing?purchase=success",
            ["Billing:Stripe:CancelUrl"] = $"{_publicUrl.Urls.First()}/billing?purchase=cancelled",
            ["Billing:Stripe:PortalReturnUrl"] = $"{_publicUrl.Urls.First()}/settings/billing",
            ["Billing:Ledger:SignUpGrant"] = SignUpGrant.ToString(),
            ["Chat:Upstream:BaseUrl"] = Model.BaseUrl.ToString(),
            ["Chat:Upstream:Label"] = "local model",
            ["Devices:Presence:OfflineAfter"] = OfflineAfter.ToString(),
            ["Devices:Presence:SweepInterval"] = "00:00:00.200",
            ["Devices:Presence:HeartbeatInterval"] = "00:00:01",
            ["Devices:Presence:ReconcileInterval"] = "00:00:01",
            ["Chat:Telegram:BotToken"] = LocalTelegram.BotToken,
            ["Chat:Telegram:ApiBaseUrl"] = Telegram.Address,
            ["Chat:Telegram:WebhookUrl"] = "https://gateway.example.test/api/telegram/webhook",
            ["Chat:Assistants:CheckEvery"] = "00:00:00.100",
        });
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await System.DisposeAsync();
        await Model.DisposeAsync();
        await Telegram.DisposeAsync();
        await GitHub.DisposeAsync();
        await Stripe.DisposeAsync();
        await _publicUrl.DisposeAsync();
    }

    public string Url(string pathAndQuery = "/") => new Uri(System.Edge.Address, pathAndQuery).ToString();

    // A fresh browser profile (no session) at a desktop's width, or a phone's.
    public async Task<IPage> OpenAsync(string path = "/", bool phone = false)
    {
        var context = await _browser.NewContextAsync(new()
        {
            ViewportSize = phone ? new() { Width = 390, Height = 844 } : new() { Width = 1280, Height = 900 },
            Permissions = ["clipboard-read", "clipboard-write"],
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        // What the page itself reports goes into the test's output, for a failure's reader.
        var output = TestContext.Current.TestOutputHelper;
        page.Console += (_, message) => output?.WriteLine($"[browser {message.Type}] {message.Text}");
        page.PageError += (_, error) => output?.WriteLine($"[browser error] {error}");
        page.Response += (_, response) =>
        {
            if (response.Status >= 400) output?.WriteLine($"[browser] {response.Request.Method} {response.Url} → {response.Status}");
        };
        await page.GotoAsync(Url(path));
        return page;
    }

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Screenshots);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, name), FullPage = true });
    }

    // Signs a new visitor up through the console's form; the page ends on the console's first page.
    public async Task<(IPage Page, string Email)> SignUpAsync(bool phone = false)
    {
        var page = await OpenAsync("/sign-up", phone);
        var email = $"console-{Guid.NewGuid():N}@example.com";
        await page.GetByLabel("Name").FillAsync("Ada Console");
        await page.GetByLabel("E-mail").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(TestUsers.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Credits", Exact = true }).WaitForAsync();
        return (page, email);
    }
}
