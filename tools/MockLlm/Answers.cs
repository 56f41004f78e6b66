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

    // Pages (seed 004), one per format, answered when the system prompt names the format (as Chat's page instructions do).
    public static readonly IReadOnlyDictionary<string, string> Pages = new Dictionary<string, string>
    {
        ["html_tailwind"] = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <title>Launch</title>
              <script src="https://cdn.tailwindcss.com"></script>
            </head>
            <body class="min-h-screen bg-slate-950 text-white">
              <main class="mx-auto max-w-3xl px-6 py-24 text-center">
                <h1 class="text-5xl font-bold tracking-tight">Ship faster</h1>
                <p class="mt-6 text-lg text-slate-300">One backend for your AI product.</p>
                <a href="#start" class="mt-10 inline-block rounded-lg bg-indigo-500 px-6 py-3 font-semibold">Get started</a>
              </main>
            </body>
            </html>
            """,
        ["html_css"] = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <title>Launch</title>
              <style>
                body { margin: 0; font-family: system-ui, sans-serif; background: #0f172a; color: #fff; }
                main { max-width: 48rem; margin: 0 auto; padding: 6rem 1.5rem; text-align: center; }
                .cta { display: inline-block; margin-top: 2.5rem; padding: 0.75rem 1.5rem; border-radius: 0.5rem; background: #6366f1; color: #fff; }
              </style>
            </head>
            <body>
              <main>
                <h1>Ship faster</h1>
                <p>One backend for your AI product.</p>
                <a class="cta" href="#start">Get started</a>
              </main>
            </body>
            </html>
            """,
        ["react_tailwind"] = """
            export default function Hero() {
              return (
                <main className="mx-auto max-w-3xl px-6 py-24 text-center">
                  <h1 className="text-5xl font-bold tracking-tight">Ship faster</h1>
                  <p className="mt-6 text-lg text-slate-500">One backend for your AI product.</p>
                  <a href="#start" className="mt-10 inline-block rounded-lg bg-indigo-500 px-6 py-3 font-semibold text-white">Get started</a>
                </main>
              );
            }
            """,
        ["vue_tailwind"] = """
            <template>
              <main class="mx-auto max-w-3xl px-6 py-24 text-center">
                <h1 class="text-5xl font-bold tracking-tight">{{ title }}</h1>
                <p class="mt-6 text-lg text-slate-500">One backend for your AI product.</p>
                <a href="#start" class="mt-10 inline-block rounded-lg bg-indigo-500 px-6 py-3 font-semibold text-white">Get started</a>
              </main>
            </template>

            <script setup>
            const title = 'Ship faster'
            </script>
            """,
    };

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
        if (Pages.Keys.FirstOrDefault(format => systemPrompt.Contains(format, StringComparison.Ordinal)) is { } page)
        {
            return Pages[page];
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
