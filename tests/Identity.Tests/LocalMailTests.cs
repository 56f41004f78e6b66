using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using static Identity.Tests.Api;

namespace Identity.Tests;

// A local run has no mail server: Identity writes each mail as a file into the mail folder the AppHost gives it
// (Identity:Mail:Directory, <data folder>/mail/), and its log says only where, never the invitation's token.
public sealed class LocalMailTests(GatewayInfrastructure infrastructure)
{
    [Fact]
    public async Task An_invitation_is_written_to_the_mail_folder_for_its_owner_only_and_its_token_never_reaches_the_log()
    {
        await using var system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity],
            configureServices: (service, services) => services.AddFakeLogging());
        using var edge = system.CreateEdgeClient();
        var owner = await edge.RegisterAsync();
        var email = NewEmail("invitee");

        using var invite = await edge.PostAsync("/api/users/invite", owner.AccessToken, new { email, role = "member" });

        await invite.ShouldBe(HttpStatusCode.Created);
        var file = Assert.Single(Directory.GetFiles(system.Mail.Directory, "*.eml"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(system.Mail.Directory));
        var mail = Assert.Single(system.Mail.To(email));
        Assert.StartsWith("You are invited to join", mail.Subject);
        var token = system.Mail.InvitationToken(email);
        // Everything Identity and the edge logged, exceptions included.
        var logged = system[GatewayService.Identity].Provider.GetRequiredService<FakeLogCollector>().GetSnapshot()
            .Concat(system.Edge.Provider.GetRequiredService<FakeLogCollector>().GetSnapshot())
            .Select(record => $"{record.Message} {record.Exception}").ToList();
        Assert.Contains($"Mail to {email} written to {file} ", logged);
        Assert.DoesNotContain(logged, line => line.Contains(token, StringComparison.Ordinal) || line.Contains(Uri.EscapeDataString(token), StringComparison.Ordinal));

        // The file is the real thing: its link lets the invitee join.
        using var accept = await edge.PostAsync("/api/auth/accept-invite", null, new { token, password = Password });
        await accept.ShouldBe(HttpStatusCode.Created);
    }
}
