using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Gateway.Keys.Vault;

// AES-256-GCM with the key from Keys:Vault:EncryptionKey, which lives in configuration (a secret store in
// production), never in the database. A stored value is version (1 byte) | nonce (12) | ciphertext | tag (16).
// The owner's and the secret's ids are authenticated with it, so a row copied to another user or secret
// does not decrypt.
public sealed class SecretCipher(IOptions<VaultOptions> options)
{
    private const byte Version = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly byte[] _key = Convert.FromBase64String(options.Value.EncryptionKey);

    public byte[] Encrypt(string value, Guid userId, Guid secretId)
    {
        var plaintext = Encoding.UTF8.GetBytes(value);
        var sealedValue = new byte[1 + NonceSize + plaintext.Length + TagSize];
        sealedValue[0] = Version;
        var nonce = sealedValue.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, sealedValue.AsSpan(1 + NonceSize, plaintext.Length), sealedValue.AsSpan(^TagSize), Context(userId, secretId));
        CryptographicOperations.ZeroMemory(plaintext);
        return sealedValue;
    }

    public string Decrypt(byte[] sealedValue, Guid userId, Guid secretId)
    {
        if (sealedValue is not [Version, ..] || sealedValue.Length < 1 + NonceSize + TagSize)
        {
            throw new CryptographicException("The stored value is not in a format this service can read.");
        }
        var plaintext = new byte[sealedValue.Length - 1 - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(sealedValue.AsSpan(1, NonceSize), sealedValue.AsSpan(1 + NonceSize, plaintext.Length), sealedValue.AsSpan(^TagSize), plaintext, Context(userId, secretId));
        return Encoding.UTF8.GetString(plaintext);
    }

    private static byte[] Context(Guid userId, Guid secretId) => [.. userId.ToByteArray(), .. secretId.ToByteArray()];
}
