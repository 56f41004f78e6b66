using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Gateway.Identity.Mail;

// Identity:Mail:Directory. Set, and no SMTP server set, every mail is written there as a file: how a local run
// (the AppHost passes <data folder>/mail/) reads its invitations without a mail server and without the log.
public sealed record MailFolderOptions
{
    public const string Section = "Identity:Mail";

    public string? Directory { get; init; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Directory);
}

// One .eml file per message (RFC 5322: any mail program opens it, and it is plain text), readable by the owner
// only, as the folder is: a file holds an invitation's token. The log says where it went, never what it says.
public sealed partial class MailFolderSender(IOptions<MailFolderOptions> options, IOptions<SmtpOptions> smtp, TimeProvider time,
    ILogger<MailFolderSender> logger) : IMailSender
{
    private const string DefaultFrom = "Gateway <no-reply@localhost>";
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public async Task SendAsync(MailMessage message, CancellationToken cancellationToken)
    {
        var folder = Path.GetFullPath(options.Value.Directory!);
        var file = Path.Combine(folder, $"{time.GetUtcNow():yyyyMMdd-HHmmss.fff}-{Unsafe().Replace(message.To, "_")}-{Guid.NewGuid().ToString("N")[..6]}.eml");
        try
        {
            if (OperatingSystem.IsWindows())
            {
                System.IO.Directory.CreateDirectory(folder);
            }
            else
            {
                System.IO.Directory.CreateDirectory(folder, OwnerOnly | UnixFileMode.UserExecute);
            }
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                create.UnixCreateMode = OwnerOnly;
            }
            await using var stream = new FileStream(file, create);
            await message.ToMime(smtp.Value.From ?? DefaultFrom).WriteToAsync(stream, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The reason names the path: it stays in the log, the inviter is told only that the folder failed.
            logger.LogError("Could not write the mail to {To} into {Folder}: {Reason}", message.To, folder, ex.Message);
            throw new MailNotSentException("the local mail folder could not be written (Identity's log says why)", ex);
        }
        logger.LogInformation("Mail to {To} written to {File}", message.To, file);
    }

    // A file name keeps the address readable and nothing that a file system would take for a path.
    [GeneratedRegex("[^A-Za-z0-9@._+-]")]
    private static partial Regex Unsafe();
}
