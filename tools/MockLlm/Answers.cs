using Microsoft.ML.Tokenizers;

namespace Gateway.MockLlm;

// The mock's answers, cut into o200k tokens so that the usage it reports is what a tokenizer would count.
public static class Answers
{
    public static readonly Tokenizer O200k = TiktokenTokenizer.CreateForEncoding("o200k_base");

    // Each is one o200k token after a space, so an answer of N words is N tokens.
    private static readonly string[] Words =
    [
        "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "on", "be", "at", "by",
        "this", "have", "from", "or", "one", "had", "not", "but", "what", "all", "were", "when", "we", "there",
        "can", "an", "your", "which", "their", "if", "do", "will", "each", "about", "how", "up", "out", "them",
        "then", "she", "many", "some", "so", "these", "would", "other", "into", "has", "more", "her", "two",
        "like", "him", "see", "time", "could", "no", "make", "than", "first", "been", "its", "who", "now",
    ];

    private const string Svg =
        """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="24" height="24"><circle cx="12" cy="12" r="10" fill="#4f46e5"/><path d="M7 12h10M12 7v10" stroke="#ffffff" stroke-width="2"/></svg>""";

    private const string SvgWithScript =
        """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" onload="alert('onload')"><script>alert('script')</script><circle cx="12" cy="12" r="10" fill="#dc2626" onclick="alert('click')"/><a href="javascript:alert('href')"><rect x="4" y="4" width="4" height="4"/></a></svg>""";

    public const string FileAnswer = """
        Here is hello.py:

        ```python hello.py
        print("Hello, world!")
        ```

        Run it with:

        ```
        python hello.py
        ```
        """;

    // OpenAI's accounting for a chat prompt: 3 tokens a message, its role and content, 3 to prime the reply.
    public static int CountPrompt(IEnumerable<(string Role, string Content)> messages) =>
        3 + messages.Sum(m => 3 + O200k.CountTokens(m.Role) + O200k.CountTokens(m.Content));

    public static string Text(Directives directives, string systemPrompt, string userMessage, int tokens)
    {
        if (directives.Echo)
        {
            return Directives.Strip(userMessage);
        }
        if (directives.File)
        {
            return FileAnswer;
        }
        if (directives.Nul)
        {
            return "Before\0after";
        }
        if (systemPrompt.Contains("svg", StringComparison.OrdinalIgnoreCase) && !directives.NotSvg)
        {
            return directives.SvgScript ? SvgWithScript : Svg;
        }
        // Deterministic per prompt: the same question always gets the same answer.
        var seed = userMessage.Aggregate(17u, (h, c) => unchecked(h * 31 + c));
        var words = Enumerable.Range(0, tokens).Select(i => Words[(int)((seed + (uint)i * 7u) % (uint)Words.Length)]);
        return string.Join(' ', words) is { Length: > 0 } text ? char.ToUpperInvariant(text[0]) + text[1..] : "";
    }

    // The answer as the tokens a model would send, at most limit of them.
    public static IReadOnlyList<string> Tokens(string text, int limit) =>
        O200k.EncodeToTokens(text, out _).Take(limit).Select(t => text[t.Offset]).ToList();
}
