using System.ComponentModel.DataAnnotations;

namespace Gateway.Keys.Vault;

public sealed record VaultOptions : IValidatableObject
{
    // It holds a secret: printed (ToString, a log line) by its name only.
    public override string ToString() => nameof(VaultOptions);

    public const string Section = "Keys:Vault";
    public const string EncryptionKeySetting = "Keys:Vault:EncryptionKey";

    // Base64 of 32 random bytes (openssl rand -base64 32). Production: from the secret store;
    // development: passed in by the AppHost. Never in appsettings.json, never beside the data.
    public string EncryptionKey { get; init; } = "";

    [Range(1, 10_000, ErrorMessage = "Keys:Vault:MaxSecretsPerUser must be between 1 and 10000.")]
    public int MaxSecretsPerUser { get; init; } = 100;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var bytes = new byte[32];
        if (!Convert.TryFromBase64String(EncryptionKey, bytes, out var written) || written != 32)
        {
            yield return new ValidationResult(
                $"{EncryptionKeySetting} (environment Keys__Vault__EncryptionKey) must be the base64 of 32 random bytes, for example from `openssl rand -base64 32`.",
                [nameof(EncryptionKey)]);
        }
    }
}
