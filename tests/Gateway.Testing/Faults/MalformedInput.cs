using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Gateway.Testing.Faults;

public sealed record Probe(string Method, string Path, string What, int Status, string Body);

public sealed record SweepReport(int Operations, IReadOnlyList<Probe> Probes)
{
    // A 503 saying a feature is not configured here (Stripe) is the designed answer, not a failure.
    public IReadOnlyList<Probe> ServerErrors =>
        [.. Probes.Where(p => p.Status is 0 or >= 500 && !(p.Status == 503 && p.Body.Contains("not configured", StringComparison.OrdinalIgnoreCase)))];

    public IReadOnlyList<Probe> Leaks => [.. Probes.Where(p => MalformedInput.Leaks(p.Body))];

    public string Format()
    {
        var text = new StringBuilder();
        text.AppendLine($"{Probes.Count} malformed requests over {Operations} operations of /openapi.json, by status: " +
            string.Join(", ", Probes.GroupBy(p => p.Status).OrderBy(g => g.Key).Select(g => $"{(g.Key == 0 ? "no answer" : g.Key)} × {g.Count()}")));
        foreach (var probe in ServerErrors)
        {
            text.AppendLine($"  {probe.Status}: {probe.Method} {probe.Path} with {probe.What}: {Clip(probe.Body)}");
        }
        foreach (var probe in Leaks.Except(ServerErrors))
        {
            text.AppendLine($"  leaks ({probe.Status}): {probe.Method} {probe.Path} with {probe.What}: {Clip(probe.Body)}");
        }
        return text.ToString();
    }

    private static string Clip(string body) => body.Length <= 200 ? body : body[..200] + "…";
}

/// <summary>
/// Every operation of the edge's merged OpenAPI document, asked with bad input: path and query parameters that are a
/// NUL, a traversal, a very long string, the smallest long, non-ASCII; a non-ASCII Idempotency-Key; bodies cut off,
/// of the wrong shape, with every field of the wrong type or the smallest long, deeply nested. Counted by status, with
/// any body that shows a stack trace or an internal address.
/// </summary>
public static partial class MalformedInput
{
    private static readonly string[] Values = ["%00", "..%2F..%2Fetc%2Fpasswd", new string('x', 3000), "-9223372036854775808", "%D0%BA%D0%BB%D1%8E%D1%87"];

    private static readonly (string What, string Json)[] Bodies =
    [
        ("a body cut off after a colon", """{"message":"""),
        ("a body cut off", "{"),
        ("an array body", "[1,2]"),
        ("a null body", "null"),
        ("a string body", "\"x\""),
        ("arrays nested 5,000 deep", new string('[', 5000) + new string(']', 5000)),
        ("a NUL in every string", "{\"x\":\"a\\u0000b\"}"),
    ];

    [GeneratedRegex(@"(?m)^\s+at [\w.<>`]+\(|Exception:|(127\.0\.0\.1|localhost|\[::1\]):\d{2,5}")]
    private static partial Regex Leak();

    public static bool Leaks(string body) => Leak().IsMatch(body);

    /// <summary>As <paramref name="user"/>, and the platform's ledger administration as <paramref name="admin"/>; the routes that
    /// end sessions (/api/auth/…) last.</summary>
    public static async Task<SweepReport> SweepAsync(FaultSystem system, FaultUser user, FaultUser admin, CancellationToken ct)
    {
        // Header values go out as UTF-8 bytes, as a careless client sends them (HttpClient refuses them otherwise).
        using var http = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 })
        {
            BaseAddress = system.Edge,
            Timeout = TimeSpan.FromSeconds(30),
        };
        var document = JsonNode.Parse(await http.GetStringAsync("/openapi.json", ct))!;
        var operations = new List<(string Method, string Path, JsonNode Operation)>();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                if (method is "get" or "post" or "put" or "patch" or "delete")
                {
                    operations.Add((method.ToUpperInvariant(), path, operation!));
                }
            }
        }

        var probes = new List<Probe>();
        foreach (var (method, path, operation) in operations.OrderBy(o => o.Path.StartsWith("/api/auth/", StringComparison.Ordinal)))
        {
            var caller = path.Contains("/admin/", StringComparison.Ordinal) ? admin : user;
            var parameters = operation["parameters"]?.AsArray().Select(p => (Name: p!["name"]!.GetValue<string>(), In: p["in"]!.GetValue<string>())).ToList() ?? [];
            var inPath = parameters.Where(p => p.In == "path").Select(p => p.Name).ToList();
            var inQuery = parameters.Where(p => p.In == "query").Select(p => p.Name).ToList();
            var fields = operation["requestBody"]?["content"]?["application/json"]?["schema"] is { } schema ? Properties(document, schema) : [];
            var takesBody = method is "POST" or "PUT" or "PATCH";
            var valid = Regex.Replace(path, @"\{[^}]+\}", Guid.NewGuid().ToString());

            var asked = new List<(string What, HttpRequestMessage Request)>();
            foreach (var value in Values)
            {
                if (inPath.Count > 0)
                {
                    asked.Add(($"path {Shorten(value)}", new HttpRequestMessage(new HttpMethod(method), Regex.Replace(path, @"\{[^}]+\}", value))));
                }
                if (inQuery.Count > 0)
                {
                    asked.Add(($"query {Shorten(value)}", new HttpRequestMessage(new HttpMethod(method), valid + "?" + string.Join("&", inQuery.Select(q => $"{q}={value}")))));
                }
            }
            var keyed = new HttpRequestMessage(new HttpMethod(method), valid);
            keyed.Headers.TryAddWithoutValidation("Idempotency-Key", "ключ");
            asked.Add(("Idempotency-Key: ключ", keyed));
            if (takesBody)
            {
                asked.AddRange(Bodies.Select(b => (b.What, Json(method, valid, b.Json))));
                // One field wrong at a time, the others plausible, so that the wrong one is what the service reads.
                foreach (var field in fields.Keys)
                {
                    foreach (var (what, wrong) in new[] { ("an object", "{\"x\":1}"), ("the smallest long", "-9223372036854775808"), ("a huge number", "1e400") })
                    {
                        var body = new JsonObject(fields.Select(f => KeyValuePair.Create(f.Key, f.Key == field ? JsonNode.Parse(wrong) : f.Value?.DeepClone())));
                        asked.Add(($"{field} {what}", Json(method, valid, body.ToJsonString())));
                    }
                }
            }

            foreach (var (what, request) in asked)
            {
                using (request)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", caller.AccessToken);
                    probes.Add(await AskAsync(http, method, path, what, request, ct));
                }
            }
        }
        return new SweepReport(operations.Count, probes);
    }

    private static async Task<Probe> AskAsync(HttpClient http, string method, string path, string what, HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            using var response = await http.SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            return new Probe(method, path, what, (int)response.StatusCode, body);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return new Probe(method, path, what, 0, e.Message);
        }
    }

    private static HttpRequestMessage Json(string method, string path, string json) =>
        new(new HttpMethod(method), path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    // The body's top-level properties (following $refs), each with a plausible value of its type.
    private static Dictionary<string, JsonNode?> Properties(JsonNode document, JsonNode schema)
    {
        JsonNode Resolve(JsonNode node) =>
            node["$ref"]?.GetValue<string>() is { } reference && reference.StartsWith("#/", StringComparison.Ordinal)
                ? reference[2..].Split('/').Aggregate((JsonNode?)document, (n, key) => n?[key]) ?? node
                : node;
        schema = Resolve(schema);
        return schema["properties"]?.AsObject().ToDictionary(p => p.Key, p =>
        {
            var property = Resolve(p.Value!);
            var type = property["type"] is JsonArray types ? types.Select(t => t?.GetValue<string>()).FirstOrDefault(t => t != "null") : property["type"]?.GetValue<string>();
            return type switch
            {
                "string" when property["format"]?.GetValue<string>() == "uuid" => JsonValue.Create(Guid.NewGuid()),
                "string" => JsonValue.Create("x"),
                "integer" or "number" => JsonValue.Create(1),
                "boolean" => JsonValue.Create(true),
                "array" => new JsonArray(),
                _ => (JsonNode?)null,
            };
        }) ?? [];
    }

    private static string Shorten(string value) => value.Length <= 24 ? value : $"{value[..8]}… ({value.Length} characters)";
}
