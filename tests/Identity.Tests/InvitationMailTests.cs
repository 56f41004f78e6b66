using System.Net;
using System.Text.RegularExpressions;
using static Identity.Tests.Api;

namespace Identity.Tests;

// Invitations mailed through a real SMTP conversation (Identity:Mail:Smtp), with a local SMTP server standing in
// for the mail provider.
public sealed partial class InvitationMailTests(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    private readonly FakeSmtpServer _smtp = FakeSmtpServer.Start();
    private GatewaySystem _system = null!;

    public async ValueTask InitializeAsync() => _system = await StartIdentityAsync(_smtp.Port);

    // Identity mailing through 127.0.0.1:port, in plain SMTP.
    private Task<GatewaySystem> StartIdentityAsync(int port) =>
        GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity], settings: new Dictionary<string, string?>
        {
            ["Identity:Mail:Smtp:Host"] = "127.0.0.1",
            ["Identity:Mail:Smtp:Port"] = port.ToString(),
            ["Identity:Mail:Smtp:Security"] = "None",
            ["Identity:Mail:Smtp:From"] = "Gateway <no-reply@gateway.test>",
        });

    public async ValueTask DisposeAsync()
    {
        await _system.DisposeAsync();
        await _smtp.DisposeAsync();
    }

    [Fact]
    public async Task An_invitation_is_mailed_over_SMTP_and_its_link_lets_the_invitee_join()
    {
        using var edge = _system.CreateEdgeClient();
        var owner = await edge.RegisterAsync();
        var email = NewEmail("invitee");

        using var invite = await edge.PostAsync("/api/users/invite", owner.AccessToken, new { email, role = "member" });

        await invite.ShouldBe(HttpStatusCode.Created);
        var mail = Assert.Single(_smtp.Messages, m => m.To.Contains(email));
        Assert.Equal("no-reply@gateway.test", mail.From);
        var message = MimeKit.MimeMessage.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(mail.Data)), Cancel);
        Assert.StartsWith("You are invited to join", message.Subject);
        var token = Uri.UnescapeDataString(TokenInLink().Match(message.TextBody ?? "").Groups[1].Value);
        using var accept = await edge.PostAsync("/api/auth/accept-invite", null, new { token, password = Password });
        await accept.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task When_the_mail_server_is_down_the_invitation_is_kept_and_the_inviter_is_told_to_resend_it()
    {
        var unreachable = FakeSmtpServer.Start();
        var port = unreachable.Port;
        await unreachable.DisposeAsync(); // nothing listens there now
        await using var system = await StartIdentityAsync(port);
        using var edge = system.CreateEdgeClient();
        var owner = await edge.RegisterAsync();
        var email = NewEmail("invitee");

        using var invite = await edge.PostAsync("/api/users/invite", owner.AccessToken, new { email, role = "member" });
        using var list = await edge.GetAsync("/api/users", owner.AccessToken);

        await invite.ShouldBe(HttpStatusCode.BadGateway);
        var problem = await invite.JsonAsync();
        Assert.Contains("was saved", problem.GetProperty("detail").GetString());
        Assert.Contains("resend-invite", problem.GetProperty("detail").GetString());
        Assert.Contains(email, await list.Content.ReadAsStringAsync(Cancel));
    }

    [GeneratedRegex(@"\?token=([A-Za-z0-9%_\-\.~]+)")]
    private static partial Regex TokenInLink();
}
