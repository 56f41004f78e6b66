using System.ComponentModel.DataAnnotations;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Gateway.Identity.Mail;

// Identity:Mail:Smtp. Setting Host turns mail on, in any environment; the password comes from configuration
// (an environment variable or a secret store), is never logged and is only sent to this server.
public sealed record SmtpOptions
{
    // It holds a secret: printed (ToString, a log line) by its name only.
    public override string ToString() => nameof(SmtpOptions);

    public const string Section = "Identity:Mail:Smtp";

    public string? Host { get; init; }

    [Range(1, 65535)] public int Port { get; init; } = 587;

    // StartTls (port 587, the default), Tls (implicit, port 465) or None (a relay on a trusted network only).
    public SmtpSecurity Security { get; init; } = SmtpSecurity.StartTls;

    public string? UserName { get; init; }
    public string? Password { get; init; }

    // The sender's address, required with Host: "Gateway <no-reply@example.com>".
    public string? From { get; init; }

    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);
}

public enum SmtpSecurity { StartTls, Tls, None }

public sealed class SmtpOptionsValidator : IValidateOptions<SmtpOptions>
{
    public ValidateOptionsResult Validate(string? name, SmtpOptions options) =>
        !options.Enabled ? ValidateOptionsResult.Success
        : string.IsNullOrWhiteSpace(options.From) || !MailboxAddress.TryParse(options.From, out _)
            ? ValidateOptionsResult.Fail($"{SmtpOptions.Section}:From must be a mail address (\"Gateway <no-reply@example.com>\") when Host is set.")
        : string.IsNullOrEmpty(options.UserName) != string.IsNullOrEmpty(options.Password)
            ? ValidateOptionsResult.Fail($"{SmtpOptions.Section}:UserName and Password are set together or not at all.")
        : ValidateOptionsResult.Success;
}

// Sends each message over its own SMTP connection (invitations are rare). A server that cannot be reached or
// refuses the message is a MailNotSentException, worded without the message's link.
public sealed class SmtpMailSender(IOptions<SmtpOptions> options) : IMailSender
{
    public async Task SendAsync(MailMessage message, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var mime = message.ToMime(settings.From!); // validated at start with Host

        using var client = new SmtpClient { Timeout = (int)settings.Timeout.TotalMilliseconds };
        try
        {
            await client.ConnectAsync(settings.Host!, settings.Port, settings.Security switch
            {
                SmtpSecurity.Tls => SecureSocketOptions.SslOnConnect,
                SmtpSecurity.None => SecureSocketOptions.None,
                _ => SecureSocketOptions.StartTls,
            }, cancellationToken);
            if (!string.IsNullOrEmpty(settings.UserName))
            {
                await client.AuthenticateAsync(settings.UserName, settings.Password ?? "", cancellationToken);
            }
            await client.SendAsync(mime, cancellationToken);
            await client.DisconnectAsync(quit: true, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or CommandException or ProtocolException
                                       or AuthenticationException or SslHandshakeException or TimeoutException)
        {
            throw new MailNotSentException($"the mail server {settings.Host}:{settings.Port} did not take the message ({ex.Message})", ex);
        }
    }
}

public sealed class MailNotSentException(string message, Exception inner) : Exception(message, inner);
