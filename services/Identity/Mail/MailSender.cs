using System.Collections.Concurrent;

namespace Gateway.Identity.Mail;

public sealed record MailMessage(string To, string Subject, string Body, string? Link = null);

// How the service reaches people by e-mail (invitations). Production plugs in a real transport.
public interface IMailSender
{
    Task SendAsync(MailMessage message, CancellationToken cancellationToken);
}

// Development only: writes each message to the log and keeps the last ones in memory, where tests and
// a developer's debugger can read the invitation link. Never registered outside Development.
public sealed class LogMailSender(SentMail sent, ILogger<LogMailSender> logger) : IMailSender
{
    public Task SendAsync(MailMessage message, CancellationToken cancellationToken)
    {
        sent.Add(message);
        logger.LogInformation("Development mail to {To}: {Subject}\n{Body}", message.To, message.Subject, message.Body);
        return Task.CompletedTask;
    }
}

public sealed class SentMail
{
    private const int Keep = 1000;
    private readonly ConcurrentQueue<MailMessage> _messages = new();

    public IReadOnlyList<MailMessage> Messages => [.. _messages];

    public IReadOnlyList<MailMessage> To(string address) =>
        [.. _messages.Where(m => string.Equals(m.To, address, StringComparison.OrdinalIgnoreCase))];

    internal void Add(MailMessage message)
    {
        _messages.Enqueue(message);
        while (_messages.Count > Keep && _messages.TryDequeue(out _))
        {
        }
    }
}

// Outside Development, until a real transport is configured, an invitation cannot be delivered: say so
// loudly instead of pretending, and never log the link.
public sealed class UndeliverableMailSender(ILogger<UndeliverableMailSender> logger) : IMailSender
{
    public Task SendAsync(MailMessage message, CancellationToken cancellationToken)
    {
        logger.LogError("No mail transport is configured; the message '{Subject}' to {To} was not sent", message.Subject, message.To);
        return Task.CompletedTask;
    }
}
