using Gateway.Keys.Infrastructure;

namespace Gateway.Keys.Vault;

// A value a user keeps in the vault (seed 002), encrypted at rest by SecretCipher. Write-only: after
// creation no character of the value leaves the service, so the list shows a fixed mask.
public sealed class VaultSecret
{
    public const int MaxNameLength = 100;
    public const int MaxValueBytes = 4096;
    public const string Mask = "••••••••";

    private VaultSecret() { }

    public Guid Id { get; private init; }
    public Guid UserId { get; private init; }
    public string Name { get; private init; } = "";
    public byte[] Ciphertext { get; private init; } = [];
    public DateTimeOffset CreatedAt { get; private init; }

    public static VaultSecret Create(Guid userId, string name, string value, SecretCipher cipher, DateTimeOffset now)
    {
        var id = Guid.CreateVersion7(now);
        return new VaultSecret
        {
            Id = id,
            UserId = userId,
            Name = name,
            Ciphertext = cipher.Encrypt(value, userId, id),
            CreatedAt = now.ToMicroseconds(),
        };
    }
}
