using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Gateway.MockLlm;

public sealed record ToolCall(string Id, string Name, string Arguments);

// Tool calls a test scripts in the last user message: "[mock:call write_file {"path":"a.md","content":"hi"}]", one or more,
// asked for one per model call, in order (OpenAI's tool_calls, finish reason "tool_calls"); the k-th call is asked for
// when k-1 tool messages follow the last user message. When every call has its result, the answer is "Done." followed by
// the results, so a test sees what the tools returned.
public sealed partial record ToolScript(ToolCall? Next, IReadOnlyList<string> Results)
{
    public static readonly ToolCall Weather = new("call_mock", "get_weather", """{"city":"Paris"}""");

    [GeneratedRegex("""\[mock:call ([A-Za-z_][A-Za-z0-9_]*) (\{.*?\})\]""", RegexOptions.Singleline)]
    private static partial Regex Pattern();

    public static ToolScript Read(string lastUserMessage, JsonArray messages)
    {
        var calls = Pattern().Matches(lastUserMessage).Select((m, i) => new ToolCall($"call_{i + 1}", m.Groups[1].Value, m.Groups[2].Value)).ToList();
        var lastUser = messages.Select((m, i) => (m, i)).LastOrDefault(x => x.m?["role"]?.GetValue<string>() == "user").i;
        var results = messages.Skip(lastUser + 1).Where(m => m?["role"]?.GetValue<string>() == "tool")
            .Select(m => m?["content"] is JsonValue v && v.TryGetValue<string>(out var text) ? text : m?["content"]?.ToJsonString() ?? "").ToList();
        return new ToolScript(results.Count < calls.Count ? calls[results.Count] : null, calls.Count > 0 ? results : []);
    }

    public static string Answer(IReadOnlyList<string> results) => "Done. " + string.Join(" ", results);
}
