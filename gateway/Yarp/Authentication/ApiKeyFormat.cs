using Gateway.Contracts;

namespace Gateway.Edge.Authentication;

public static class ApiKeyFormat
{
    public const string Scheme = "ApiKey";
    public const string Prefix = ApiKeyHash.Prefix;

    // sk_live_ and at least 32 random bytes in a text-safe alphabet (base62 or base64url).
    public static bool IsWellFormed(string key) =>
        key.StartsWith(Prefix, StringComparison.Ordinal)
        && key.Length is >= 40 and <= 128
        && key.AsSpan(Prefix.Length).IndexOfAnyExcept(SafeCharacters) < 0;

    // The Keys service stores and looks keys up by this.
    public static string Hash(string key) => ApiKeyHash.Of(key);

    private static readonly System.Buffers.SearchValues<char> SafeCharacters =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
}
