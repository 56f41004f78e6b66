using System.Security.Cryptography;
using System.Text;

namespace Gateway.Billing.Ledger;

// Idempotency keys for transfers that follow from something else (a user's sign-up grant, a Stripe
// checkout session, a hold's expiry): the same cause always names the same transfer.
public static class TransferIds
{
    public static Guid For(string purpose, Guid cause) => For(purpose, cause.ToString("N"));

    public static Guid For(string purpose, string cause)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"gateway-billing:{purpose}:{cause}"), hash);
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80); // version 8: name-based, custom hash
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 9562 variant
        return new Guid(bytes, bigEndian: true);
    }
}
