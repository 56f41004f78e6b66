using MimeKit;

namespace Gateway.Testing;

// The mail Identity wrote into the system's mail folder (Identity:Mail:Directory), read as a person running the
// AppHost reads theirs: one .eml file per message.
public sealed class LocalMail(string directory)
{
    public string Directory { get; } = directory;

    // Oldest first (file names start with the time written).
    public IReadOnlyList<MimeMessage> To(string address) =>
        !System.IO.Directory.Exists(Directory) ? []
        : [.. System.IO.Directory.EnumerateFiles(Directory, "*.eml").Order(StringComparer.Ordinal)
            .Select(file => MimeMessage.Load(file))
            .Where(mail => mail.To.Mailboxes.Any(to => string.Equals(to.Address, address, StringComparison.OrdinalIgnoreCase)))];

    // The token of the newest invitation mailed to this address, from its link (…?token=…).
    public string InvitationToken(string address)
    {
        var mail = To(address) is [.., var newest] ? newest : throw new InvalidOperationException($"No mail to {address} in {Directory}.");
        var body = mail.TextBody ?? "";
        var start = body.IndexOf("token=", StringComparison.Ordinal) + "token=".Length;
        var end = body.IndexOfAny([' ', '\r', '\n'], start);
        return Uri.UnescapeDataString(end < 0 ? body[start..] : body[start..end]);
    }
}
