using System.Security.Cryptography;
using System.Text;
using Gateway.Identity.Accounts;

namespace Gateway.Identity.Invitations;

// An invitation to join an organisation. Only the SHA-256 of its token is stored; the token itself
// travels once, in the e-mail, and a resend replaces it.
public sealed class Invitation
{
    public Guid Id { get; init; }
    public Guid OrganizationId { get; init; }
    public required string Email { get; init; }
    public Role Role { get; set; }
    public Guid InvitedBy { get; init; }
    public required byte[] TokenHash { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? AcceptedAt { get; set; }
    public Guid? AcceptedBy { get; set; }
    public int TimesSent { get; set; }

    public static (Invitation Invitation, string Token) Create(Guid organizationId, string email, Role role, Guid invitedBy, DateTimeOffset now, TimeSpan lifetime)
    {
        var token = NewToken();
        return (new Invitation
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = organizationId,
            Email = email,
            Role = role,
            InvitedBy = invitedBy,
            TokenHash = Hash(token),
            CreatedAt = now,
            ExpiresAt = now + lifetime,
            TimesSent = 1,
        }, token);
    }

    // A fresh token and a fresh expiry; the old link stops working.
    public string Renew(DateTimeOffset now, TimeSpan lifetime)
    {
        var token = NewToken();
        TokenHash = Hash(token);
        ExpiresAt = now + lifetime;
        TimesSent++;
        return token;
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private static string NewToken() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
