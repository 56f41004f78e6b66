using System.Text;
using Gateway.ServiceDefaults;

namespace Gateway.Keys.Vault;

// What a caller may store; each rule answers null when the value is fine, else the reason.
public static class VaultRules
{
    public static string? Name(string? name) => name?.Trim() switch
    {
        null => "A name is required.",
        var trimmed when OneLineText.IsBlank(trimmed) => "A name is required.", // white space or invisible characters alone too
        { Length: > VaultSecret.MaxNameLength } => $"A name is at most {VaultSecret.MaxNameLength} characters.",
        var trimmed when OneLineText.HasBreaking(trimmed) => "A name cannot contain control characters.",
        _ => null,
    };

    // The value is kept exactly as sent (no trimming): it is somebody's credential.
    public static string? Value(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "A value is required.";
        }
        var size = Encoding.UTF8.GetByteCount(value);
        return size > VaultSecret.MaxValueBytes
            ? $"A value is at most {VaultSecret.MaxValueBytes} bytes (UTF-8); this one is {size}."
            : null;
    }
}
