using System.Globalization;
using System.Text.RegularExpressions;

namespace Gateway.MockLlm;

// What one request asks of the mock, from "[mock:name=value]" in the last user message or from the
// X-Mock header ("name=value; name"), on top of the server's options:
//   tokens=N          answer N tokens (capped by max_tokens)
//   first-token-ms=N  wait N ms before the first token;  token-ms=N  wait N ms between tokens
//   error=STATUS      answer that status with an OpenAI error body, before any output
//   hang              never answer;  hang-after=N  send N tokens, then stall until the caller gives up
//   fail-after=N      send N tokens, then drop the connection
//   no-usage          leave usage out even when asked for it
//   tool              call a tool (get_weather) before answering
//   [mock:call NAME {JSON}]  call the tool NAME with these arguments, one call per model call (ToolScript)
//   echo              answer the user's message back
//   nul               an answer with a NUL character in it (a model's output Postgres text cannot hold)
//   file              an answer that writes a file (hello.py in a fenced block naming it) and shows a
//                     command in a block naming none
//   svg-script        (icons) an SVG with a script and an event handler in it;  not-svg  prose instead of SVG
// Without echo, file or nul, a system prompt naming a page format (html_tailwind, html_css, react_tailwind, vue_tailwind)
// gets that format's page (Answers.Pages); one mentioning SVG gets an SVG; any other, deterministic words.
public sealed partial record Directives
{
    public int? Tokens { get; init; }
    public TimeSpan FirstTokenLatency { get; init; }
    public TimeSpan TokenDelay { get; init; }
    public int? ErrorStatus { get; init; }
    public bool Hang { get; init; }
    public int? HangAfter { get; init; }
    public int? FailAfter { get; init; }
    public bool NoUsage { get; init; }
    public bool Tool { get; init; }
    public bool Echo { get; init; }
    public bool Nul { get; init; }
    public bool File { get; init; }
    public bool SvgScript { get; init; }
    public bool NotSvg { get; init; }

    [GeneratedRegex(@"\[mock:([a-z\-]+)(?:=([0-9]+))?\]")]
    private static partial Regex Pattern();

    public static string Strip(string text) => Pattern().Replace(text, "").Trim();

    public static Directives Read(MockLlmOptions options, string? header, string lastUserMessage)
    {
        var directives = new Directives
        {
            FirstTokenLatency = options.FirstTokenLatency,
            TokenDelay = options.TokenDelay,
            ErrorStatus = options.Mode == "error" ? options.ErrorStatus : null,
            Hang = options.Mode == "hang",
        };
        var pairs = Pattern().Matches(lastUserMessage).Select(m => (m.Groups[1].Value, m.Groups[2].Success ? m.Groups[2].Value : null));
        if (!string.IsNullOrWhiteSpace(header))
        {
            pairs = pairs.Concat(header.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(p => p.Split('=', 2) is [var name, var value] ? (name, (string?)value) : (p, null)));
        }
        foreach (var (name, value) in pairs)
        {
            int? number = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
            directives = name switch
            {
                "tokens" => directives with { Tokens = number },
                "first-token-ms" => directives with { FirstTokenLatency = TimeSpan.FromMilliseconds(number ?? 0) },
                "token-ms" => directives with { TokenDelay = TimeSpan.FromMilliseconds(number ?? 0) },
                "error" => directives with { ErrorStatus = number ?? 500 },
                "hang" => directives with { Hang = true },
                "hang-after" => directives with { HangAfter = number ?? 0 },
                "fail-after" => directives with { FailAfter = number ?? 0 },
                "no-usage" => directives with { NoUsage = true },
                "tool" => directives with { Tool = true },
                "echo" => directives with { Echo = true },
                "nul" => directives with { Nul = true },
                "file" => directives with { File = true },
                "svg-script" => directives with { SvgScript = true },
                "not-svg" => directives with { NotSvg = true },
                _ => directives,
            };
        }
        return directives;
    }
}
