using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace WebConsole.Tests;

// The chat page and the /v1 playground, against Chat metered by Billing with MockLlm as the model.
[Collection(nameof(ConsoleSystem))]
public sealed class ChatTests(ConsoleSystem console)
{
    [Fact]
    public async Task An_answer_streams_in_shows_the_file_it_wrote_and_its_cost_and_the_balance_goes_down_by_it()
    {
        var (page, _) = await console.SignUpAsync();
        await Assertions.Expect(page.GetByTestId("available")).ToHaveTextAsync(ConsoleSystem.SignUpGrant.ToString("N0"), new() { Timeout = 30_000 });

        await page.GetByRole(AriaRole.Link, new() { Name = "Chat", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("chat-balance")).ToHaveTextAsync("1,000");
        await page.GetByLabel("Message").FillAsync("Write me a script [mock:file] [mock:token-ms=60]");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();

        // Part of the answer is on the page while the rest is still coming.
        var answer = page.GetByRole(AriaRole.Article, new() { Name = "Answer" }).Last;
        await page.WaitForFunctionAsync("""
            () => {
              const streaming = [...document.querySelectorAll('article .answer')].pop();
              return streaming?.querySelector('.cursor') && streaming.textContent.length > 10;
            }
            """);
        await ConsoleSystem.ScreenshotAsync(page, "chat-streaming.png");

        var cost = answer.GetByTestId("cost");
        await Assertions.Expect(cost).ToContainTextAsync("credits", new() { Timeout = 30_000 });
        await Assertions.Expect(answer.Locator(".cursor")).ToHaveCountAsync(0);
        await Assertions.Expect(answer.Locator("details.artifact summary")).ToContainTextAsync("hello.py");
        var credits = long.Parse(Regex.Match(await cost.TextContentAsync() ?? "", @"^([\d,]+) credits").Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.True(credits > 0);
        await Assertions.Expect(page.GetByTestId("chat-balance")).ToHaveTextAsync((ConsoleSystem.SignUpGrant - credits).ToString("N0"));
        await ConsoleSystem.ScreenshotAsync(page, "chat.png");

        // The conversation is kept: listed, and read back from the server when chosen again.
        await page.GetByRole(AriaRole.Button, new() { Name = "New chat" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Article, new() { Name = "Answer" })).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Complementary).GetByRole(AriaRole.Listitem).First.GetByRole(AriaRole.Button).ClickAsync();
        await Assertions.Expect(page.GetByTestId("cost")).ToContainTextAsync($"{credits:N0} credits");

        await page.GetByRole(AriaRole.Link, new() { Name = "Credits" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("balance")).ToHaveTextAsync((ConsoleSystem.SignUpGrant - credits).ToString("N0"));
        await Assertions.Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = $"-{credits:N0}" })).ToContainTextAsync("usage");
    }

    // A 402 said only "Required: 29, Available: 0" (a trial): what it means, and where credits are bought.
    [Fact]
    public async Task A_message_the_wallet_cannot_pay_for_says_so_and_where_credits_are_bought()
    {
        var (page, _) = await console.SignUpAsync();
        await Assertions.Expect(page.GetByTestId("available")).ToHaveTextAsync(ConsoleSystem.SignUpGrant.ToString("N0"), new() { Timeout = 30_000 });
        await page.GetByRole(AriaRole.Link, new() { Name = "Chat", Exact = true }).ClickAsync();

        // An answer longer than the wallet is cut where the credits end ...
        await page.GetByLabel("Message").FillAsync("Go on [mock:tokens=2000]");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("chat-balance")).ToHaveTextAsync("0", new() { Timeout = 30_000 });
        // ... and the next message is refused, saying why.
        await page.GetByLabel("Message").FillAsync("And more?");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();

        var refusal = page.GetByRole(AriaRole.Alert);
        await Assertions.Expect(refusal).ToContainTextAsync("Not enough credits. Required: ");
        await Assertions.Expect(refusal.GetByRole(AriaRole.Link, new() { Name = "Buy credits" })).ToHaveAttributeAsync("href", "/");
    }

    [Fact]
    public async Task The_playground_calls_v1_with_a_key_of_the_users_and_offers_the_same_call_as_code()
    {
        var (page, _) = await console.SignUpAsync(phone: true);

        await page.GetByRole(AriaRole.Link, new() { Name = "API playground" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create a playground key" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Model")).Not.ToHaveValueAsync("");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();

        await Assertions.Expect(page.GetByTestId("playground-answer")).Not.ToBeEmptyAsync();
        await Assertions.Expect(page.Locator(".cost")).ToContainTextAsync("completion tokens", new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByTestId("code-sample")).ToContainTextAsync(console.Url("/v1").TrimEnd('/'));
        await page.GetByRole(AriaRole.Button, new() { Name = "python" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("code-sample")).ToContainTextAsync("OpenAI(base_url=");
        await ConsoleSystem.ScreenshotAsync(page, "playground-phone.png");
    }

    // At a desktop's width the code sample's long curl line made the whole page scroll sideways (a trial: 1344 of 1280
    // pixels): it scrolls in its own box.
    [Fact]
    public async Task The_playground_fits_a_desktops_width()
    {
        var (page, _) = await console.SignUpAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "API playground" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create a playground key" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("code-sample")).ToContainTextAsync("curl");

        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= document.documentElement.clientWidth"),
            $"The page is {await page.EvaluateAsync<int>("document.documentElement.scrollWidth")} pixels wide");
    }
}
