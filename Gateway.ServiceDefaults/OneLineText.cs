namespace Gateway.ServiceDefaults;

// Text a person gives as one line (a name, a title, an interest): shown to others in lists, mail and the assistant's
// instructions, where a control character, a line or paragraph separator (U+2028, U+2029) or a bidirectional override
// or isolate (U+202A–U+202E, U+2066–U+2069) could forge a line or reorder what they read. Emoji joiners stay allowed.
public static class OneLineText
{
    public static bool IsBreaking(char c) => char.IsControl(c) || c is '\u2028' or '\u2029' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');

    public static bool HasBreaking(string text) => text.Any(IsBreaking);
}
