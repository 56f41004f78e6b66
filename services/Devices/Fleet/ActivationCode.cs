using System.Security.Cryptography;
using System.Text;

namespace Gateway.Devices.Fleet;

// The code a person types into a new device: ten characters of Crockford's base32 (no I, L, O, U), shown
// as XXXXX-XXXXX. 50 bits, single use and expiring, so a fast hash is enough; the plain code is only ever
// in the registration response.
public static class ActivationCode
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    private const int Length = 10;

    public static string Generate()
    {
        var characters = RandomNumberGenerator.GetItems<char>(Alphabet, Length);
        return $"{new string(characters, 0, 5)}-{new string(characters, 5, 5)}";
    }

    // What a person may type: any case, with or without the dash or spaces, O for 0 and I or L for 1.
    public static string? Normalize(string? typed)
    {
        if (typed is null || typed.Length > 32)
        {
            return null;
        }
        var normalized = new StringBuilder(Length);
        foreach (var c in typed.ToUpperInvariant())
        {
            var mapped = c switch { 'O' => '0', 'I' or 'L' => '1', _ => c };
            if (mapped is '-' or ' ')
            {
                continue;
            }
            if (!Alphabet.Contains(mapped))
            {
                return null;
            }
            normalized.Append(mapped);
        }
        return normalized.Length == Length ? normalized.ToString() : null;
    }

    // Lowercase hex SHA-256 of the normalised code.
    public static string Hash(string normalized) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(normalized)));
}
