using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Devices.Fleet;

// A device's own credential: dvc_ and 32 random bytes in base64url. No dots (the edge would take it for an
// access token) and not sk_live_ (an API key), so the edge passes it through untouched. Stored as SHA-256.
public static class DeviceToken
{
    public const string Prefix = "dvc_";

    public static string Generate() => Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static bool IsWellFormed(string token) =>
        token.StartsWith(Prefix, StringComparison.Ordinal) && token.Length is > 40 and < 100
        && token.AsSpan(Prefix.Length).ContainsAnyExcept(Base64UrlCharacters) is false;

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static readonly System.Buffers.SearchValues<char> Base64UrlCharacters =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
}
