using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace WebConsole.Tests;

// The organisation's pages: members and invitations, devices going online live, customer sessions approved.
[Collection(nameof(ConsoleSystem))]
public sealed class OrganizationTests(ConsoleSystem console)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_registered_device_shows_its_activation_code_and_goes_online_on_the_page_as_it_happens()
    {
        var (page, _) = await console.SignUpAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Devices" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Updates" })).ToContainTextAsync("live");

        await page.GetByLabel("Device name").FillAsync("Till 1");
        await page.GetByLabel("Labels").FillAsync("lobby, ground floor");
        await page.GetByRole(AriaRole.Button, new() { Name = "Register device" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Labels")).ToHaveAccessibleDescriptionAsync(new System.Text.RegularExpressions.Regex("'ground floor' may only contain"));
        await page.GetByLabel("Labels").FillAsync("lobby, ground-floor");
        await page.GetByRole(AriaRole.Button, new() { Name = "Register device" }).ClickAsync();
        var code = await page.GetByTestId("activation-code").TextContentAsync();
        await Assertions.Expect(page.GetByTestId("fleet-pending")).ToHaveTextAsync("1");
        await Assertions.Expect(page.GetByTestId("device-status")).ToHaveTextAsync("pending");
        await ConsoleSystem.ScreenshotAsync(page, "devices-registered.png");

        // The device, set up with the code, activates and sends its first heartbeat; nobody reloads the page.
        using var edge = console.System.CreateEdgeClient();
        using var activate = await edge.PostAsJsonAsync("/api/devices/activate", new { activationCode = code }, Cancel);
        activate.EnsureSuccessStatusCode();
        var device = await activate.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        edge.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", device.GetProperty("deviceToken").GetString());
        using var heartbeat = await edge.PostAsJsonAsync($"/api/devices/{device.GetProperty("deviceId")}/heartbeat", new { version = "1.4.2" }, Cancel);
        heartbeat.EnsureSuccessStatusCode();

        await Assertions.Expect(page.GetByTestId("device-status")).ToHaveTextAsync("online");
        await Assertions.Expect(page.GetByTestId("fleet-online")).ToHaveTextAsync("1");
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "1.4.2" })).ToBeVisibleAsync();
        await ConsoleSystem.ScreenshotAsync(page, "devices-online.png");

        await page.GetByLabel("Status").SelectOptionAsync("offline");
        await Assertions.Expect(page.GetByText("No devices match.")).ToBeVisibleAsync();
        await page.GetByLabel("Status").SelectOptionAsync("");
        await page.GetByLabel("Label", new() { Exact = true }).FillAsync("lobby");
        await Assertions.Expect(page.GetByTestId("device-status")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task A_customer_session_appears_live_and_is_approved_with_a_note()
    {
        var (page, _) = await console.SignUpAsync(phone: true);
        await page.GetByRole(AriaRole.Link, new() { Name = "Approvals" }).ClickAsync();
        await Assertions.Expect(page.GetByText("No pending sessions.")).ToBeVisibleAsync();

        // A device of the organisation submits a session while the page is open.
        using var owner = console.System.CreateEdgeClient();
        owner.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            await page.EvaluateAsync<string>("JSON.parse(localStorage.getItem('gateway.session')).accessToken"));
        using var register = await owner.PostAsJsonAsync("/api/devices/register", new { name = "Till 2" }, Cancel);
        var code = (await register.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("activationCode").GetString();
        using var device = console.System.CreateEdgeClient();
        using var activate = await device.PostAsJsonAsync("/api/devices/activate", new { activationCode = code }, Cancel);
        device.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            (await activate.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("deviceToken").GetString());
        using var submit = await device.PostAsJsonAsync("/api/customer-sessions", new
        {
            customerName = "Grace",
            transcript = new[] { new { speaker = "customer", text = "I'd like to return these shoes." }, new { speaker = "agent", text = "Of course." } },
        }, Cancel);
        submit.EnsureSuccessStatusCode();

        var session = page.GetByRole(AriaRole.Listitem, new() { Name = "Grace at Till 2" });
        await session.WaitForAsync();
        await session.GetByText("Transcript").ClickAsync();
        await Assertions.Expect(session.Locator(".transcript")).ToContainTextAsync("return these shoes");
        await ConsoleSystem.ScreenshotAsync(page, "approvals-phone.png");

        await session.GetByLabel("Note or reason").FillAsync("Receipt checked");
        await session.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Assertions.Expect(page.GetByText("No pending sessions.")).ToBeVisibleAsync();
        await page.GetByLabel("Show").SelectOptionAsync("approved");
        await Assertions.Expect(page.GetByRole(AriaRole.Listitem, new() { Name = "Grace at Till 2" })).ToContainTextAsync("approved");
    }

    [Fact]
    public async Task An_invitation_is_listed_as_it_is_sent_resent_found_by_search_accepted_live_and_the_member_made_admin()
    {
        var (page, email) = await console.SignUpAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Profile and members" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = email })).ToContainTextAsync("owner");

        await page.GetByLabel("Invite by e-mail").FillAsync("not-an-address");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send invitation" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Invite by e-mail")).ToHaveAttributeAsync("aria-invalid", "true");

        var invited = $"grace-{Guid.NewGuid():N}@example.com";
        await page.GetByLabel("Invite by e-mail").FillAsync(invited);
        await page.GetByRole(AriaRole.Button, new() { Name = "Send invitation" }).ClickAsync();
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = invited });
        await Assertions.Expect(row).ToContainTextAsync("invited");
        await row.GetByRole(AriaRole.Button, new() { Name = $"Resend the invitation to {invited}" }).ClickAsync();
        await Assertions.Expect(row.GetByRole(AriaRole.Status)).ToHaveTextAsync("Sent again.");
        await ConsoleSystem.ScreenshotAsync(page, "members.png");

        await page.GetByLabel("Search members").FillAsync("grace-");
        await Assertions.Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = email })).ToHaveCountAsync(0);
        await Assertions.Expect(row).ToBeVisibleAsync();

        // Grace follows the mail's link to the console and chooses a password; the owner's list shows her join.
        var grace = await console.OpenAsync($"/accept-invite?token={Uri.EscapeDataString(console.System.Mail.InvitationToken(invited))}");
        await grace.GetByLabel("Password").FillAsync(TestUsers.Password);
        await grace.GetByRole(AriaRole.Button, new() { Name = "Accept invitation" }).ClickAsync();
        await grace.GetByRole(AriaRole.Heading, new() { Name = "Credits", Exact = true }).WaitForAsync();
        await Assertions.Expect(row).ToContainTextAsync("active");
        var role = row.GetByRole(AriaRole.Combobox, new() { Name = $"Role of {invited}" });
        await Assertions.Expect(role).ToHaveValueAsync("member");

        // Grace, a member, reads the organisation: nothing to invite, save or change (each was a 403 when tried).
        await grace.GetByRole(AriaRole.Link, new() { Name = "Profile and members" }).ClickAsync();
        await Assertions.Expect(grace.GetByRole(AriaRole.Row).Filter(new() { HasText = email })).ToContainTextAsync("owner");
        await Assertions.Expect(grace.GetByRole(AriaRole.Button, new() { Name = "Send invitation" })).ToHaveCountAsync(0);
        await Assertions.Expect(grace.GetByRole(AriaRole.Button, new() { Name = "Save profile" })).ToHaveCountAsync(0);
        await Assertions.Expect(grace.GetByRole(AriaRole.Combobox)).ToHaveCountAsync(0);

        await role.SelectOptionAsync("admin");
        await Assertions.Expect(row.GetByRole(AriaRole.Status)).ToHaveTextAsync("Role changed.");
        // Made an admin, her page follows at once: she invites members and admins, and still cannot touch the owner.
        await Assertions.Expect(grace.GetByRole(AriaRole.Button, new() { Name = "Send invitation" })).ToBeVisibleAsync();
        await Assertions.Expect(grace.GetByLabel("Role", new() { Exact = true }).Locator("option")).ToHaveTextAsync(["member", "admin"]);
        await Assertions.Expect(grace.GetByRole(AriaRole.Combobox, new() { Name = $"Role of {email}" })).ToHaveCountAsync(0);
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Combobox, new() { Name = $"Role of {invited}" })).ToHaveValueAsync("admin");
    }
}
