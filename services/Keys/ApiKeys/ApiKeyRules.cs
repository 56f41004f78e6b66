using Gateway.ServiceDefaults;
namespace Gateway.Keys.ApiKeys;

// What a caller may ask for; each rule answers null when the value is fine, else the reason.
public static class ApiKeyRules
{
    public static string? Name(string? name) => name?.Trim() switch
    {
        null => "A name is required.",
        var trimmed when OneLineText.IsBlank(trimmed) => "A name is required.", // white space or invisible characters alone too
        { Length: > ApiKey.MaxNameLength } => $"A name is at most {ApiKey.MaxNameLength} characters.",
        var trimmed when OneLineText.HasBreaking(trimmed) => "A name cannot contain control characters.",
        _ => null,
    };

    public static string? ExpiresAt(DateTimeOffset? expiresAt, DateTimeOffset now) =>
        expiresAt <= now ? "The expiry must be in the future." : null;
}
