using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Gateway.AppHost.Tests;

/// <summary>Debian's Chromium, headless, signed in to the Aspire dashboard; screenshots go to TestResults/dashboard/.</summary>
public sealed class DashboardBrowser : IAsyncDisposable
{
    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "TestResults", "dashboard");
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;
    private readonly string _url;

    private DashboardBrowser(IPlaywright playwright, IBrowser browser, IPage page, string url)
    {
        _playwright = playwright;
        _browser = browser;
        _url = url;
        Page = page;
    }

    public IPage Page { get; }

    public static async Task<DashboardBrowser> SignInAsync(string url, string token)
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1600, Height = 1000 } });
        page.SetDefaultTimeout(20_000);
        await page.GotoAsync($"{url}/login?t={token}");
        await page.WaitForURLAsync(u => !u.Contains("/login", StringComparison.Ordinal));
        return new DashboardBrowser(playwright, browser, page, url);
    }

    /// <summary>Opens a dashboard page and waits for Blazor to have rendered its main area.</summary>
    public async Task<IPage> OpenAsync(string path)
    {
        await Page.GotoAsync(_url + path);
        await Page.Locator("main, .main-content, [role=main]").First.WaitForAsync();
        return Page;
    }

    /// <summary>
    /// Reloads the Traces page until a trace of that name with spans from every one of the resources is listed, opens
    /// it, and sees in its detail a span of each resource itself (an instance of it with replicas: "chat-xkqzr"), not
    /// only a call to it.
    /// </summary>
    public async Task<IPage> FindTraceAsync(string name, string[] resources, TimeSpan within)
    {
        var page = await FindTraceListedAsync(name, resources, within);
        foreach (var resource in resources)
        {
            var cell = page.GetByRole(AriaRole.Gridcell).Filter(new() { HasTextRegex = new Regex($@"^\s*{resource}(-[a-z0-9]+)?\s*$") });
            await Assertions.Expect(cell.First).ToBeVisibleAsync();
        }
        return page;
    }

    private async Task<IPage> FindTraceListedAsync(string name, string[] resources, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            await OpenAsync("/traces");
            var rows = Page.GetByRole(AriaRole.Row).Filter(new() { HasText = name });
            foreach (var resource in resources)
            {
                // "chat (3)", or an instance of it with replicas: "chat-xkqzr (2)".
                rows = rows.Filter(new() { Has = Page.Locator(".trace-service-tag", new() { HasTextRegex = new Regex($@"^\s*{resource}(-[a-z0-9]+)? \(") }) });
            }
            try
            {
                await rows.First.WaitForAsync(new() { Timeout = 5_000 });
                await ScreenshotAsync("traces.png");
                var link = rows.First.Locator("a[href*='/traces/detail/']");
                if (await link.CountAsync() > 0)
                {
                    await link.First.ClickAsync();
                }
                else
                {
                    await rows.First.ClickAsync();
                }
                await Page.WaitForURLAsync(u => u.Contains("/traces/detail/", StringComparison.Ordinal));
                return Page;
            }
            catch (TimeoutException) when (DateTime.UtcNow < deadline)
            {
            }
        }
    }

    public async Task ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(Screenshots);
        await Page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, name), FullPage = true });
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
