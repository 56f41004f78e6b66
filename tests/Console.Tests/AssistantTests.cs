using System.Text.RegularExpressions;
using Gateway.Chat.Assistants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace WebConsole.Tests;

// Generations, the personal assistant and Telegram connect, through the console.
[Collection(nameof(ConsoleSystem))]
public sealed class AssistantTests(ConsoleSystem console)
{
    [Fact]
    public async Task An_icon_and_a_page_are_generated_charged_and_kept_in_the_history()
    {
        var (page, _) = await console.SignUpAsync();
        await Assertions.Expect(page.GetByTestId("available")).ToHaveTextAsync(ConsoleSystem.SignUpGrant.ToString("N0"), new() { Timeout = 30_000 });
        await page.GetByRole(AriaRole.Link, new() { Name = "Generations" }).ClickAsync();

        await page.GetByLabel("Describe an icon").FillAsync("a paper plane");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate icon" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new() { Name = "a paper plane" })).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Made for" })).ToContainTextAsync("credits");

        await page.GetByLabel("Describe a page").FillAsync("A landing page for a bakery");
        await page.GetByLabel("Format").SelectOptionAsync("html_css");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate page" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("page-code")).ToContainTextAsync("<", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator(".result .status")).ToHaveTextAsync("completed", new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Open A landing page for a bakery" })).ToBeVisibleAsync();
        await ConsoleSystem.ScreenshotAsync(page, "generations.png");
    }

    [Fact]
    public async Task The_assistant_starts_shows_running_live_its_tool_calls_fold_in_the_chat_and_it_stops()
    {
        var (page, _) = await console.SignUpAsync();
        await Assertions.Expect(page.GetByTestId("available")).ToHaveTextAsync(ConsoleSystem.SignUpGrant.ToString("N0"), new() { Timeout = 30_000 });
        var userId = await page.EvaluateAsync<string>("JSON.parse(localStorage.getItem('gateway.session')).user.id");
        await page.GetByRole(AriaRole.Link, new() { Name = "Assistant" }).ClickAsync();
        var status = page.GetByTestId("assistant-status");
        await Assertions.Expect(status).ToHaveTextAsync("stopped");

        await page.GetByRole(AriaRole.Button, new() { Name = "Start assistant" }).ClickAsync();
        await Assertions.Expect(status).ToHaveTextAsync("running", new() { Timeout = 60_000 });
        await ConsoleSystem.ScreenshotAsync(page, "assistant.png");

        // As Chat.Tests' AssistantTests: "running" can come a moment before the runtime gives the tools' address.
        var runtime = (LocalProcessRuntime)console.System[GatewayService.Chat].Provider.GetRequiredService<IAssistantRuntime>();
        await Eventually.UntilAsync(() => runtime.GetAsync(Guid.Parse(userId), TestContext.Current.CancellationToken),
            s => s is { State: RuntimeState.Running, Endpoint: not null }, TimeSpan.FromSeconds(30));
        await page.GetByRole(AriaRole.Link, new() { Name = "Chat", Exact = true }).ClickAsync();
        await page.GetByLabel("Message").FillAsync("""Note this. [mock:call write_file {"path":"notes/todo.md","content":"buy milk"}]""");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        var answer = page.GetByRole(AriaRole.Article, new() { Name = "Answer" }).Last;
        await Assertions.Expect(answer.GetByTestId("cost")).ToContainTextAsync("credits", new() { Timeout = 30_000 });
        var call = answer.Locator("details.activity").Filter(new() { HasText = "Called write_file" });
        await Assertions.Expect(call.Locator("pre")).Not.ToBeVisibleAsync();
        await call.Locator("summary").ClickAsync();
        await Assertions.Expect(call.Locator("pre")).ToContainTextAsync("notes/todo.md");
        await Assertions.Expect(answer.Locator("details.artifact summary")).ToContainTextAsync("notes/todo.md");
        await ConsoleSystem.ScreenshotAsync(page, "chat-activity.png");

        // Opened again from the list, the stored answer still shows what it called.
        await page.GetByRole(AriaRole.Button, new() { Name = "New chat" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Note this." }).ClickAsync();
        var stored = page.GetByRole(AriaRole.Article, new() { Name = "Answer" }).Last.Locator("details.activity").Filter(new() { HasText = "Called write_file" });
        await stored.Locator("summary").ClickAsync();
        await Assertions.Expect(stored.Locator("pre")).ToContainTextAsync("notes/todo.md");
        await page.GetByRole(AriaRole.Link, new() { Name = "Assistant" }).ClickAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Stop assistant" }).ClickAsync();
        await Assertions.Expect(status).ToHaveTextAsync("stopped", new() { Timeout = 30_000 });
    }

    [Fact]
    public async Task Settings_are_saved_and_a_refused_one_is_named_beside_its_field()
    {
        var (page, _) = await console.SignUpAsync(phone: true);
        await page.GetByRole(AriaRole.Link, new() { Name = "Assistant" }).ClickAsync();

        await page.GetByLabel("Time zone").FillAsync("Not/AZone");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Time zone")).ToHaveAttributeAsync("aria-invalid", "true");

        await page.GetByLabel("Time zone").FillAsync("Europe/Paris");
        await page.GetByLabel("Assistant's name").FillAsync("Jeeves");
        await page.GetByLabel("Interests").FillAsync("sailing, bread");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Saved." })).ToBeVisibleAsync();

        await page.ReloadAsync();
        await Assertions.Expect(page.GetByLabel("Assistant's name")).ToHaveValueAsync("Jeeves");
        await Assertions.Expect(page.GetByLabel("Interests")).ToHaveValueAsync("sailing, bread");
    }

    [Fact]
    public async Task Telegram_connect_shows_the_link_as_a_qr_code_and_notices_when_the_chat_is_linked()
    {
        var (page, _) = await console.SignUpAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Assistant" }).ClickAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Connect Telegram" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new() { Name = "QR code of the link to the bot" })).ToBeVisibleAsync();
        var link = await page.GetByRole(AriaRole.Link, new() { Name = "the link" }).GetAttributeAsync("href");
        Assert.StartsWith($"https://t.me/{LocalTelegram.BotUsername}?start=", link);
        await ConsoleSystem.ScreenshotAsync(page, "telegram.png");

        // The user opens the link in Telegram and presses Start: Telegram delivers "/start <token>" to the webhook.
        await Eventually.UntilAsync(() => Task.FromResult(console.Telegram.WebhookSecret), secret => secret is not null);
        using var edge = console.System.CreateEdgeClient();
        using var delivered = await console.Telegram.DeliverAsync(edge,
            LocalTelegram.TextUpdate(Random.Shared.NextInt64(1, 1_000_000_000), Random.Shared.NextInt64(1, 1_000_000_000), $"/start {Regex.Match(link!, "start=(.+)$").Groups[1].Value}"));

        await Assertions.Expect(page.GetByText("connected", new() { Exact = true })).ToBeVisibleAsync(new() { Timeout = 15_000 });
    }
}
