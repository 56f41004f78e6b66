using MimeKit;

namespace Gateway.Identity.Mail;

public sealed record MailMessage(string To, string Subject, string Body)
{
    // The same message whichever way it leaves: over SMTP, or as a file in the local mail folder.
    public MimeMessage ToMime(string from)
    {
        var mime = new MimeMessage
        {
            Subject = Subject,
            Body = new TextPart("plain") { Text = Body },
        };
        mime.From.Add(MailboxAddress.Parse(from));
        mime.To.Add(MailboxAddress.Parse(To));
        return mime;
    }
}

// How the service reaches people by e-mail (invitations): an SMTP server (SmtpMailSender) or, on one machine, a
// folder of files (MailFolderSender). Whatever a message carries (an invitation's token) never goes to a log.
public interface IMailSender
{
    Task SendAsync(MailMessage message, CancellationToken cancellationToken);
}

// Neither an SMTP server nor a mail folder is configured: an invitation cannot be delivered. Say so loudly
// instead of pretending, and never log the link.
public sealed class UndeliverableMailSender(ILogger<UndeliverableMailSender> logger) : IMailSender
{
    public Task SendAsync(MailMessage message, CancellationToken cancellationToken)
    {
        logger.LogError("No mail transport is configured (Identity:Mail:Smtp:Host or Identity:Mail:Directory); the message '{Subject}' to {To} was not sent",
            message.Subject, message.To);
        return Task.CompletedTask;
    }
}
