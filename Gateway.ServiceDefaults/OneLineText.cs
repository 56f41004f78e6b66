namespace Gateway.ServiceDefaults;

// Text a person gives as one line (a name, a title, an interest): shown to others in lists, mail and the assistant's
// instructions, where a control character, a line or paragraph separator (U+2028, U+2029) or a bidirectional override
// or isolate (U+202A–U+202E, U+2066–U+2069) could forge a line or reorder what they read. Emoji joiners stay allowed.
public static class OneLineText
{
    public static bool IsBreaking(char c) => char.IsControl(c) || c is '\u2028' or '\u2029' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');

    public static bool HasBreaking(string text) => text.Any(IsBreaking);

    // Nothing a reader would see: white space and invisible format characters alone (a zero-width space, U+200B).
    public static bool IsBlank(string text) => text.All(c => char.IsWhiteSpace(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format);

    // At most max characters (UTF-16 units), ending in "…" when cut, and never between the halves of a surrogate pair
    // (an emoji cut in half reads as U+FFFD).
    public static string Shorten(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }
        var keep = max - 1;
        if (char.IsHighSurrogate(text[keep - 1]))
        {
            keep--;
        }
        return string.Concat(text.AsSpan(0, keep), "…");
    }
}
