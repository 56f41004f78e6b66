using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Edge.Authentication;

// What the edge writes to its key cache in Redis: "<MAC>.<valid until, unix ms>.<payload>", where the MAC is
// HMAC-SHA256 under Edge:ApiKeys:CacheKey, in base64url, over the entry's Redis name and everything after the
// MAC. Anyone who can reach Redis can write there; only the edge can write an entry the edge will believe.
// The name stops an entry being moved to another key; the time stops an old one being replayed past its TTL.
public static class KeyCacheSeal
{
    private const int MacChars = 43; // base64url of 32 bytes, unpadded
    private const int MaxChars = 1024; // far more than an edge-written entry; a longer value is not one

    public static string Seal(ReadOnlySpan<byte> key, string redisKey, DateTimeOffset validUntil, string payload)
    {
        var body = $"{validUntil.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}.{payload}";
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Compute(key, redisKey, body, mac);
        return $"{Base64Url.EncodeToString(mac)}.{body}";
    }

    // False for anything neither this edge nor a replica holding the same key wrote; the caller checks the time.
    public static bool TryOpen(ReadOnlySpan<byte> key, string redisKey, string stored, out string payload, out DateTimeOffset validUntil)
    {
        payload = "";
        validUntil = default;
        if (stored.Length is < MacChars + 3 or > MaxChars || stored[MacChars] != '.')
        {
            return false;
        }
        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (!Base64Url.TryDecodeFromChars(stored.AsSpan(0, MacChars), given, out var written) || written != given.Length)
        {
            return false;
        }
        var body = stored.AsSpan(MacChars + 1);
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Compute(key, redisKey, body, expected);
        if (!CryptographicOperations.FixedTimeEquals(given, expected))
        {
            return false;
        }
        var dot = body.IndexOf('.');
        if (dot < 0 || !long.TryParse(body[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var untilMs))
        {
            return false;
        }
        validUntil = DateTimeOffset.FromUnixTimeMilliseconds(untilMs);
        payload = body[(dot + 1)..].ToString();
        return true;
    }

    private static void Compute(ReadOnlySpan<byte> key, string redisKey, ReadOnlySpan<char> body, Span<byte> mac)
    {
        // The name never holds a line break (edge:apikey:<hex>), so name and body cannot be shifted into each other.
        Span<byte> data = stackalloc byte[Encoding.UTF8.GetMaxByteCount(redisKey.Length + 1 + body.Length)];
        var length = Encoding.UTF8.GetBytes(redisKey, data);
        data[length++] = (byte)'\n';
        length += Encoding.UTF8.GetBytes(body, data[length..]);
        HMACSHA256.HashData(key, data[..length], mac);
    }
}
