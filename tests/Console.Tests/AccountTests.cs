using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace WebConsole.Tests;

// Part of the console a new visitor meets first: signing up, keys and the vault, credits, signing out and in again.
[Collection(nameof(ConsoleSystem))]
public sealed class AccountTests(ConsoleSystem console)
{
    [Fact]
    public async Task A_refused_sign_up_shows_the_reason_beside_the_field_it_names()
    {
        var page = await console.OpenAsync("/sign-up");

        await page.GetByLabel("E-mail").FillAsync($"weak-{Guid.NewGuid():N}@example.com");
        await page.GetByLabel("Password").FillAsync("short");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();

        var password = page.GetByLabel("Password");
        await Assertions.Expect(password).ToHaveAttributeAsync("aria-invalid", "true");
        // The reason is the field's accessible description, so a screen reader reads it with the field.
        await Assertions.Expect(password).ToHaveAccessibleDescriptionAsync(new Regex("at least", RegexOptions.IgnoreCase));
        await Assertions.Expect(page.GetByLabel("E-mail")).Not.ToHaveAttributeAsync("aria-invalid", "true");
        await ConsoleSystem.ScreenshotAsync(page, "sign-up-refused.png");
    }

    [Fact]
    public async Task A_visitor_signs_up_sees_the_grant_creates_a_key_shown_once_revokes_it_and_signs_out_and_in()
    {
        var (page, email) = await console.SignUpAsync();

        await Assertions.Expect(page.GetByTestId("available")).ToHaveTextAsync(ConsoleSystem.SignUpGrant.ToString("N0"), new() { Timeout = 30_000 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Show older entries" }).Or(page.GetByRole(AriaRole.Cell, new() { Name = "grant" })).First.WaitForAsync();
        await Assertions.Expect(page.Locator("canvas[role=img]")).ToHaveAttributeAsync("aria-label", new Regex("last 7 days"));
        await ConsoleSystem.ScreenshotAsync(page, "credits.png");

        await page.GetByRole(AriaRole.Link, new() { Name = "API keys" }).ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("laptop");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var secret = await page.GetByTestId("new-key").TextContentAsync();
        Assert.Matches("^sk_live_", secret);
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy" }).ClickAsync();
        Assert.Equal(secret, await page.EvaluateAsync<string>("navigator.clipboard.readText()"));
        await ConsoleSystem.ScreenshotAsync(page, "keys.png");

        // The key works on the public API as it was shown, and is listed masked, never whole again.
        using (var client = console.System.CreateEdgeClient())
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", secret);
            Assert.True((await client.GetAsync("/v1/models", TestContext.Current.CancellationToken)).IsSuccessStatusCode);
        }
        await page.GetByRole(AriaRole.Button, new() { Name = "I have copied it" }).ClickAsync();
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "laptop" });
        await Assertions.Expect(row).ToContainTextAsync("active");
        Assert.DoesNotContain(secret!, await page.ContentAsync());

        await row.GetByRole(AriaRole.Button, new() { Name = "Revoke laptop…" }).ClickAsync();
        await row.GetByRole(AriaRole.Button, new() { Name = "Revoke laptop", Exact = true }).ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("revoked");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Sign in", Exact = true }).WaitForAsync();
        await page.GetByLabel("E-mail").FillAsync(email);
        await page.GetByLabel("Password").FillAsync("not-the-Password-1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("incorrect");
        await page.GetByLabel("Password").FillAsync(TestUsers.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Credits", Exact = true }).WaitForAsync();
    }

    [Fact]
    public async Task A_visitor_signs_in_with_a_configured_provider_and_only_configured_ones_are_offered()
    {
        var page = await console.OpenAsync("/sign-in");
        console.GitHub.SigningIn = new(Random.Shared.NextInt64(1, 1_000_000_000).ToString(), $"octo-{Guid.NewGuid():N}@example.com", "Octo Cat");

        await page.GetByRole(AriaRole.Link, new() { Name = "Continue with GitHub" }).ClickAsync();

        // GitHub approves and sends the browser back through the public URL to the console, which finishes the sign-in.
        await page.GetByRole(AriaRole.Heading, new() { Name = "Credits", Exact = true }).WaitForAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Banner)).ToContainTextAsync("Octo Cat");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Continue with GitHub" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Continue with Google" })).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Continue with Microsoft" })).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Credits_bought_through_stripe_checkout_appear_once_stripe_confirms_and_the_billing_portal_returns_to_the_console()
    {
        var (page, _) = await console.SignUpAsync();
        await Assertions.Expect(page.GetByTestId("available")).ToHaveTextAsync(ConsoleSystem.SignUpGrant.ToString("N0"), new() { Timeout = 30_000 });
        var userId = await page.EvaluateAsync<string>("JSON.parse(localStorage.getItem('gateway.session')).user.id");
        // Stripe's hosted checkout page, where the customer pays and is sent back to the success URL.
        await page.RouteAsync("https://checkout.stripe.test/**", route => route.FulfillAsync(new()
        {
            Status = 303,
            Headers = new Dictionary<string, string> { ["Location"] = console.Stripe.Sessions[route.Request.Url.Split('/')[^1]].SuccessUrl },
        }));

        await page.GetByLabel("Amount (USD)").FillAsync("5");
        await page.GetByRole(AriaRole.Button, new() { Name = "Checkout with Stripe" }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith("/billing?purchase=success", StringComparison.Ordinal));
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "payment went through" })).ToBeVisibleAsync();

        // Stripe confirms to the webhook; the page, asking again meanwhile, shows the credits.
        var session = console.Stripe.Sessions.Values.Single(s => s.UserId == userId);
        var payload = FakeStripe.Event(session);
        using var edge = console.System.CreateEdgeClient();
        using var webhook = new HttpRequestMessage(HttpMethod.Post, "/api/billing/stripe/webhook") { Content = new StringContent(payload, System.Text.Encoding.UTF8, "application/json") };
        webhook.Headers.Add("Stripe-Signature", FakeStripe.Sign(payload));
        using var confirmed = await edge.SendAsync(webhook, TestContext.Current.CancellationToken);
        confirmed.EnsureSuccessStatusCode();
        await Assertions.Expect(page.GetByTestId("available")).ToHaveTextAsync((ConsoleSystem.SignUpGrant + long.Parse(session.Credits)).ToString("N0"), new() { Timeout = 15_000 });
        await ConsoleSystem.ScreenshotAsync(page, "credits-bought.png");

        // The organisation's billing portal is Stripe's too, and Stripe sends the browser back to the console.
        await page.RouteAsync("https://billing.stripe.test/**", route => route.FulfillAsync(new()
        {
            Status = 303,
            Headers = new Dictionary<string, string> { ["Location"] = console.Stripe.PortalSessions[route.Request.Url.Split('/')[^1]].ReturnUrl },
        }));
        await page.GetByRole(AriaRole.Link, new() { Name = "Profile and members" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Open the billing portal" }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith("/settings/billing", StringComparison.Ordinal));
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Profile and members" })).ToHaveAttributeAsync("aria-current", "page");
    }

    [Fact]
    public async Task The_vault_stores_a_secret_lists_it_masked_and_deletes_it()
    {
        var (page, _) = await console.SignUpAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Vault" }).ClickAsync();
        await page.GetByLabel("Name").FillAsync("OPENAI_API_KEY");
        await page.GetByLabel("Value").FillAsync("sk-very-secret-value");
        await page.GetByRole(AriaRole.Button, new() { Name = "Store secret" }).ClickAsync();

        var item = page.GetByRole(AriaRole.Listitem).Filter(new() { HasText = "OPENAI_API_KEY" });
        await item.WaitForAsync();
        Assert.DoesNotContain("sk-very-secret-value", await page.ContentAsync());
        await ConsoleSystem.ScreenshotAsync(page, "vault.png");

        await item.GetByRole(AriaRole.Button, new() { Name = "Delete OPENAI_API_KEY" }).ClickAsync();
        await Assertions.Expect(page.GetByText("No secrets stored.")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task An_expired_access_token_is_refreshed_without_signing_the_user_out()
    {
        var (page, _) = await console.SignUpAsync();
        // As if the page had slept past the token's life: the next call is refused, refreshed and tried again.
        await page.EvaluateAsync("""
            () => {
              const s = JSON.parse(localStorage.getItem('gateway.session'));
              s.accessToken = s.accessToken.slice(0, -4) + 'AAAA';
              localStorage.setItem('gateway.session', JSON.stringify(s));
            }
            """);
        var before = await page.EvaluateAsync<string>("JSON.parse(localStorage.getItem('gateway.session')).refreshToken");

        await page.ReloadAsync();

        await Assertions.Expect(page.GetByTestId("available")).ToHaveTextAsync(ConsoleSystem.SignUpGrant.ToString("N0"), new() { Timeout = 30_000 });
        Assert.NotEqual(before, await page.EvaluateAsync<string>("JSON.parse(localStorage.getItem('gateway.session')).refreshToken"));
    }
}
