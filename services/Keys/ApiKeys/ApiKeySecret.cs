using System.Buffers.Text;
using System.Security.Cryptography;
using Gateway.Contracts;

namespace Gateway.Keys.ApiKeys;

// The text of a key: sk_live_ and 32 random bytes in base64url (43 characters, 256 bits). A fast hash
// is enough for a value with that much entropy; a slow password hash would only slow every lookup.
public static class ApiKeySecret
{
    public const string Prefix = ApiKeyHash.Prefix;
    private const int RandomBytes = 32;
    private const int Shown = 4;

    public static string Generate() => Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(RandomBytes));

    // The name the edge looks the key up by (Gateway.Contracts).
    public static string Hash(string key) => ApiKeyHash.Of(key);

    public static bool IsHash(string? hash) => hash is { Length: 64 } && hash.All(char.IsAsciiHexDigitLower);

    public static string Mask(string key) => $"{key[..(Prefix.Length + Shown)]}…{key[^Shown..]}";
}
