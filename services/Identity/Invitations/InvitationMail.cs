using Gateway.Identity.Mail;
using Microsoft.Extensions.Options;

namespace Gateway.Identity.Invitations;

public sealed class InvitationMail(IMailSender mail, IOptions<InvitationOptions> options)
{
    public Task SendAsync(Invitation invitation, string token, string organizationName, CancellationToken cancellationToken)
    {
        var link = $"{options.Value.AcceptUrl}?token={Uri.EscapeDataString(token)}";
        return mail.SendAsync(new MailMessage(
            invitation.Email,
            $"You are invited to join {organizationName}",
            $"You have been invited to join {organizationName} as {invitation.Role.ToString().ToLowerInvariant()}.\n" +
            $"Accept the invitation before {invitation.ExpiresAt:u}: {link}"), cancellationToken);
    }
}
