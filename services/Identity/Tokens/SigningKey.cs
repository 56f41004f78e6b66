using System.Security.Cryptography;

namespace Gateway.Identity.Tokens;

// One ES256 key pair of the ring. The private half is stored encrypted when a key-encryption key is
// configured, and never leaves the identity database otherwise.
public sealed class SigningKey
{
    public required string Id { get; init; }
    public string Algorithm { get; init; } = "ES256";
    public required byte[] PrivateKey { get; init; }
    public bool Encrypted { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    public static SigningKey Create(byte[]? keyEncryptionKey, DateTimeOffset now)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pkcs8 = ecdsa.ExportPkcs8PrivateKey();
        return new SigningKey
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            PrivateKey = keyEncryptionKey is null ? pkcs8 : Seal(pkcs8, keyEncryptionKey),
            Encrypted = keyEncryptionKey is not null,
            CreatedAt = now,
        };
    }

    public ECDsa Open(byte[]? keyEncryptionKey)
    {
        var pkcs8 = Encrypted
            ? Unseal(PrivateKey, keyEncryptionKey ?? throw new InvalidOperationException(
                $"Signing key {Id} is encrypted but {TokenIssuanceOptions.Section}:KeyEncryptionKey is not set."))
            : PrivateKey;
        var ecdsa = ECDsa.Create();
        ecdsa.ImportPkcs8PrivateKey(pkcs8, out _);
        return ecdsa;
    }

    // nonce (12) | tag (16) | ciphertext
    private static byte[] Seal(byte[] plain, byte[] key)
    {
        var sealedKey = new byte[12 + 16 + plain.Length];
        RandomNumberGenerator.Fill(sealedKey.AsSpan(0, 12));
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(sealedKey.AsSpan(0, 12), plain, sealedKey.AsSpan(28), sealedKey.AsSpan(12, 16));
        return sealedKey;
    }

    private static byte[] Unseal(byte[] sealedKey, byte[] key)
    {
        var plain = new byte[sealedKey.Length - 28];
        using var aes = new AesGcm(key, 16);
        aes.Decrypt(sealedKey.AsSpan(0, 12), sealedKey.AsSpan(28), sealedKey.AsSpan(12, 16), plain);
        return plain;
    }
}
