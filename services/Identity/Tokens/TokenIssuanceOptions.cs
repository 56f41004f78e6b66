using System.ComponentModel.DataAnnotations;

namespace Gateway.Identity.Tokens;

// Identity:Tokens. Validated at start; defaults live in appsettings.json.
public sealed record TokenIssuanceOptions : IValidatableObject
{
    // It holds a secret: printed (ToString, a log line) by its name only.
    public override string ToString() => nameof(TokenIssuanceOptions);

    public const string Section = "Identity:Tokens";

    [Required] public string Issuer { get; init; } = "";
    [Required] public string Audience { get; init; } = "";

    [Range(typeof(TimeSpan), "00:00:30", "1.00:00:00")]
    public TimeSpan AccessTokenLifetime { get; init; }

    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan RefreshTokenLifetime { get; init; }

    // A new signing key is made when the newest is older than this; old keys stay published while
    // tokens they signed can still be valid.
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan SigningKeyRotation { get; init; }

    // Base64 of 32 bytes. When set, private signing keys are stored AES-GCM encrypted with it.
    public string? KeyEncryptionKey { get; init; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (KeyEncryptionKey is { Length: > 0 } key && !IsKey(key))
        {
            yield return new ValidationResult($"{Section}:{nameof(KeyEncryptionKey)} must be the base64 of 32 bytes.", [nameof(KeyEncryptionKey)]);
        }
    }

    private static bool IsKey(string value)
    {
        Span<byte> bytes = stackalloc byte[64];
        return Convert.TryFromBase64String(value, bytes, out var written) && written == 32;
    }
}
