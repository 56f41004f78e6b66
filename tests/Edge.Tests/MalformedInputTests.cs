using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.MockLlm;
using Gateway.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace Edge.Tests;

// All five services behind one edge, a user who probes and another user whose resources the prober tries to reach.
// A probe that turns out to be a valid request is served by MockLlm, so an upstream's absence is not counted as a fault.
public sealed class MalformedInputSystem(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    private MockLlmServer _model = null!;
    private readonly LocalTelegram _telegram = new();

    public GatewaySystem System { get; private set; } = null!;
    public TestUser Prober { get; private set; } = null!;
    public TestUser Owner { get; private set; } = null!;

    // The owner's resources by the path that reaches them ("/api/keys/{id}" → the owner's key).
    public Dictionary<string, string> OwnersIds { get; } = [];

    public async ValueTask InitializeAsync()
    {
        // Payments configured (with a Stripe nobody answers at), and Telegram (the local Bot API server), so purchases
        // and Telegram's routes check their input instead of answering 503.
        _model = await MockLlmServer.StartAsync();
        await _telegram.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Chat:Upstream:BaseUrl"] = _model.BaseUrl.ToString(),
            ["Billing:Stripe:SecretKey"] = "sk_test_sweep",
            ["Billing:Stripe:WebhookSecret"] = "whsec_sweep",
            ["Billing:Stripe:ApiBase"] = "http://127.0.0.1:9",
            ["Chat:Telegram:BotToken"] = LocalTelegram.BotToken,
            ["Chat:Telegram:ApiBaseUrl"] = _telegram.Address,
            ["Chat:Telegram:WebhookUrl"] = "https://gateway.example.test/api/telegram/webhook",
        };
        System = await GatewaySystem.StartAsync(infrastructure, GatewaySystem.AllServices, settings: settings);
        Prober = await System.RegisterUserAsync();
        Owner = await System.RegisterUserAsync();
        OwnersIds["/api/users/"] = Owner.UserId.ToString();
        OwnersIds["/api/keys/"] = await CreateAsync("/api/keys", new { name = "owner's key" });
        OwnersIds["/api/vault/"] = await CreateAsync("/api/vault", new { name = "owner's secret", value = "s3cret" });
        OwnersIds["/api/chat/sessions/"] = await CreateAsync("/api/chat/sessions", new { title = "owner's session" });
        OwnersIds["/api/devices/"] = await CreateAsync("/api/devices/register", new { name = "owner's device" });
    }

    private async Task<string> CreateAsync(string path, object body)
    {
        using var response = await Owner.Client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path} as the owner: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        await System.DisposeAsync();
        await _model.DisposeAsync();
        await _telegram.DisposeAsync();
    }
}

// Bad input gets a 4xx problem that names what is wrong: never a 5xx, a stack trace or an internal address.
public sealed partial class MalformedInputTests(MalformedInputSystem input) : IClassFixture<MalformedInputSystem>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private GatewaySystem System => input.System;

    // HttpClient sends only ASCII header values unless told otherwise; a client that sends UTF-8 ones, as some do.
    private HttpClient Client(string? accessToken)
    {
        var client = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 })
        {
            BaseAddress = System.Edge.Address,
            Timeout = TimeSpan.FromSeconds(15),
        };
        if (accessToken is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }
        return client;
    }

    [Theory]
    [InlineData("/api/keys")]
    [InlineData("/api/chat/sessions")]
    [InlineData("/v1/models")]
    public async Task A_header_value_that_is_not_ASCII_is_a_400_naming_the_header(string path)
    {
        // A user of its own: the sweep signs the prober out, whichever test runs first.
        using var client = Client((await System.RegisterUserAsync()).AccessToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Idempotency-Key", "ключ");

        using var response = await client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var (field, reason) = path.StartsWith("/v1", StringComparison.Ordinal)
            ? (body.GetProperty("error").GetProperty("param").GetString(), body.GetProperty("error").GetProperty("message").GetString())
            : (body.GetProperty("errors").EnumerateObject().Single().Name, body.GetProperty("detail").GetString());
        Assert.Equal("Idempotency-Key", field);
        Assert.Equal("The header 'Idempotency-Key' must be plain ASCII text; encode other characters (for example as percent-encoded UTF-8).", reason);
    }

    // Chat read and parsed 30 MB icon requests: its route had no limit at the edge, and Chat none of its own.
    [Fact]
    public async Task An_icon_request_over_its_routes_limit_is_a_413_problem_from_the_edge()
    {
        using var content = new StringContent($$"""{"prompt":"{{new string('a', 100_000)}}"}""", Encoding.UTF8, "application/json");

        var user = await System.RegisterUserAsync(); // not the prober: the sweep signs it out
        using var response = await user.Client.PostAsync("/api/icons", content, Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("The request body is 100,013 bytes; /api/icons accepts at most 65,536.", problem.GetProperty("detail").GetString());
    }

    // A body sent in chunks declares no length: it is cut off when it passes the limit, and the problem still says which.
    [Fact]
    public async Task A_chunked_request_body_over_its_routes_limit_is_a_413_problem_naming_the_limit()
    {
        var user = await System.RegisterUserAsync(); // not the prober: the sweep signs it out
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/icons")
        {
            Content = new StringContent($$"""{"prompt":"{{new string('a', 100_000)}}"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TransferEncodingChunked = true;

        using var response = await user.Client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("The request body is more than the 65,536 bytes /api/icons accepts.", problem.GetProperty("detail").GetString());
    }

    // A path no route answers is named in the 404, and where the routes are: at the edge and behind it, in each shape.
    [Fact]
    public async Task A_request_no_route_answers_is_a_404_naming_it()
    {
        var user = await System.RegisterUserAsync();
        using var api = await user.Client.GetAsync("/api/nothing-here", Ct);
        using var v1 = await user.Client.PostAsync("/v1/completions", new StringContent("""{"model":"local-model","prompt":"hi"}""", Encoding.UTF8, "application/json"), Ct);

        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), (api.StatusCode, v1.StatusCode));
        var problem = await api.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("No route answers GET /api/nothing-here: the routes are listed in /openapi.json.", problem.GetProperty("detail").GetString());
        // Titled as a route's own 404 is (a resource not found).
        Assert.Equal("Not found", problem.GetProperty("title").GetString());
        Assert.Equal("No route answers POST /v1/completions: the routes are listed in /openapi.json.",
            (await v1.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("error").GetProperty("message").GetString());
    }

    // A route without a limit got the server's (Kestrel's 30 MB, though appsettings.json claimed 1 MB: Kestrel reads no
    // limits from configuration). Every route says its own; the server's is only how much of a refused body is drained.
    [Fact]
    public void Every_route_of_the_edge_has_a_body_limit_below_the_servers()
    {
        var routes = System.Edge.Provider.GetRequiredService<IProxyConfigProvider>().GetConfig().Routes;
        var server = System.Edge.Provider.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits.MaxRequestBodySize;

        Assert.NotEmpty(routes);
        Assert.All(routes, route => Assert.True(route.MaxRequestBodySize is > 0 && route.MaxRequestBodySize < server,
            $"The route {route.RouteId} has MaxRequestBodySize {route.MaxRequestBodySize?.ToString() ?? "none"}; the server's is {server}."));
    }

    // Every operation of the edge's OpenAPI document, as the prober and as nobody, with bad input of every kind.
    [Fact]
    public async Task Malformed_input_to_every_operation_gets_a_4xx_without_internals()
    {
        var document = await System.CreateEdgeClient().GetFromJsonAsync<JsonElement>("/openapi.json", Ct);
        var operations = Operations(document).ToList();
        Assert.True(operations.Count > 40, $"Only {operations.Count} operations in the document.");
        var probes = operations.SelectMany(operation => Probes(document, operation)).ToList();

        var statuses = new ConcurrentDictionary<int, int>();
        var failures = new ConcurrentBag<string>();
        var elapsed = Stopwatch.StartNew();
        using var prober = Client(input.Prober.AccessToken);
        using var anonymous = Client(null);
        // Signing out ends the prober's session: those probes go last, and after the first of them the edge refuses the
        // prober's token before anything else, so only 5xx and leaks are judged there.
        foreach (var batch in probes.GroupBy(p => p.Operation.Path.EndsWith("/logout", StringComparison.Ordinal)).OrderBy(g => g.Key))
        {
            var calls = batch.SelectMany(probe => new[] { (probe, Caller: "prober", Client: prober), (probe, Caller: "anonymous", Client: anonymous) });
            await Parallel.ForEachAsync(calls, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = Ct }, async (call, ct) =>
            {
                var (status, problem) = await SendAsync(call.Client, call.probe, ct);
                statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
                if (problem is not null)
                {
                    failures.Add($"{call.probe.Operation.Method} {call.probe.Operation.Path} [{call.probe.Label}] as {call.Caller}: {problem}");
                }
                else if (call.Caller == "prober" && !batch.Key && call.probe.Expected is { } expected && status != expected && status != ClosedWhileSending)
                {
                    failures.Add($"{call.probe.Operation.Method} {call.probe.Operation.Path} [{call.probe.Label}] as {call.Caller}: {status}, expected {expected}");
                }
            });
        }

        var table = "status  count\n" + string.Join("\n", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key,6}  {s.Value,5}"))
            + (statuses.ContainsKey(ClosedWhileSending) ? "\n(0: a chunked body over the limit, the connection closed while the client was still sending)" : "")
            + $"\n{probes.Count * 2} requests to {operations.Count} operations in {elapsed.Elapsed.TotalSeconds:0.0} s";
        TestContext.Current.TestOutputHelper?.WriteLine(table);
        TestContext.Current.SendDiagnosticMessage(table);
        // The worst first: 5xx, then leaks, then answers other than the one expected.
        var worstFirst = failures.OrderBy(f => f.Contains(": 5", StringComparison.Ordinal) ? 0 : f.Contains(" leaks ", StringComparison.Ordinal) ? 1 : 2).ThenBy(f => f);
        Assert.True(failures.IsEmpty, $"{failures.Count} bad answers:\n{string.Join("\n", worstFirst.Take(100))}\n\n{table}");
        Assert.DoesNotContain(statuses.Keys, status => status >= 500);
    }

    private sealed record Operation(string Method, string Path, JsonElement Definition);

    // One malformed request; Expected is the status the prober must get when one is certain.
    private sealed record Probe(Operation Operation, string Label, string Path, string Query, (string Name, string Value)? Header, Func<HttpContent?> Body, int? Expected = null);

    private static IEnumerable<Operation> Operations(JsonElement document) =>
        from path in document.GetProperty("paths").EnumerateObject()
        from method in path.Value.EnumerateObject()
        where method.Name is "get" or "post" or "put" or "patch" or "delete"
        select new Operation(method.Name.ToUpperInvariant(), path.Name, method.Value);

    private IEnumerable<Probe> Probes(JsonElement document, Operation operation)
    {
        var parameters = operation.Definition.TryGetProperty("parameters", out var list) ? list.EnumerateArray().ToList() : [];
        var pathNames = parameters.Where(p => p.GetProperty("in").GetString() == "path").Select(p => p.GetProperty("name").GetString()!).ToList();
        var queryNames = parameters.Where(p => p.GetProperty("in").GetString() == "query").Select(p => p.GetProperty("name").GetString()!).ToList();
        var schema = RequestSchema(document, operation.Definition);
        var valid = schema is { } s ? MinimalBody(document, s) : null;
        Func<HttpContent?> validBody = () => valid is null ? null : Json(valid);
        var unknownIds = pathNames.ToDictionary(name => name, _ => Guid.NewGuid().ToString());
        string PathWith(string name, string value) =>
            pathNames.Aggregate(operation.Path, (path, p) => path.Replace($"{{{p}}}", Uri.EscapeDataString(p == name ? value : unknownIds[p])));
        var basePath = PathWith("", "");

        // An id that is nobody's, or another organisation's, is not found (reading or deleting it).
        var notFound = operation.Method is "GET" or "DELETE" && !IsDeviceOperation(operation) ? 404 : (int?)null;
        foreach (var name in pathNames)
        {
            yield return new Probe(operation, $"unknown {name}", basePath, "", null, validBody, notFound);
            if (input.OwnersIds.FirstOrDefault(o => operation.Path.StartsWith(o.Key, StringComparison.Ordinal)) is { Key: not null } owned)
            {
                yield return new Probe(operation, $"another user's {name}", PathWith(name, owned.Value), "", null, validBody, notFound);
            }
            foreach (var bad in BadScalars)
            {
                yield return new Probe(operation, $"{name}={Printable(bad)}", PathWith(name, bad), "", null, validBody);
            }
        }
        foreach (var name in queryNames)
        {
            foreach (var bad in BadScalars)
            {
                yield return new Probe(operation, $"?{name}={Printable(bad)}", basePath, $"?{name}={Uri.EscapeDataString(bad)}", null, validBody,
                    bad.Contains('\0') ? 400 : null);
            }
        }
        yield return new Probe(operation, "Idempotency-Key: ключ", basePath, "", ("Idempotency-Key", "ключ"), validBody, 400);
        yield return new Probe(operation, "X-Client-Note: ключ", basePath, "", ("X-Client-Note", "naïve ключ"), validBody, 400);

        if (operation.Method is "GET" or "DELETE" && schema is null)
        {
            yield break;
        }
        foreach (var (label, text) in BadBodies)
        {
            yield return new Probe(operation, label, basePath, "", null, () => new StringContent(text, Encoding.UTF8, "application/json"));
        }
        yield return new Probe(operation, "text/plain body", basePath, "", null, () => new StringContent("hello", Encoding.UTF8, "text/plain"));
        // Over every route's limit (the largest is 4 MiB), declared and chunked.
        yield return new Probe(operation, "5 MiB body", basePath, "", null, () => new ByteArrayContent(Oversized) { Headers = { ContentType = new("application/json") } }, 413);
        yield return new Probe(operation, "5 MiB chunked body", basePath, "", null, () => new StreamContent(new MemoryStream(Oversized)) { Headers = { ContentType = new("application/json") } }, 413);
        if (valid is null)
        {
            yield break;
        }
        foreach (var (property, kind) in valid.Keys.Select(p => (p, valid[p] switch { string => "string", bool => "boolean", long or int => "integer", double => "number", _ => "other" })))
        {
            foreach (var (label, wrong) in WrongValues(kind))
            {
                var body = new Dictionary<string, object?>(valid) { [property] = wrong };
                yield return new Probe(operation, $"{property}: {label}", basePath, "", null, () => Json(body));
            }
        }
    }

    private static readonly byte[] Oversized = Encoding.UTF8.GetBytes($$"""{"x":"{{new string('a', 5 * 1024 * 1024)}}"}""");

    private static readonly string[] BadScalars =
        ["a\0b", "ключ", "99999999999999999999999999", "-9223372036854775808", "9223372036854775808", "not-an-id", "", "-1", "0"];

    private static readonly (string Label, string Text)[] BadBodies =
    [
        ("cut off after a colon", """{"model":"""),
        ("cut off", """{"""),
        ("not JSON", "hello"),
        ("empty body", ""),
        ("an array", "[]"),
        ("a string", "\"text\""),
        ("a number", "-9223372036854775808"),
        ("null", "null"),
        ("a duplicate member", """{"a":1,"a":2}"""),
        ("deep nesting", new string('[', 5000) + new string(']', 5000)),
    ];

    private static IEnumerable<(string Label, object? Value)> WrongValues(string kind)
    {
        yield return ("an object", new Dictionary<string, object>());
        yield return ("an array", new[] { 1 });
        yield return ("an array holding null", new object?[] { null }); // /v1's messages: [null] was a 500
        yield return ("an array holding an empty object", new[] { new Dictionary<string, object>() });
        yield return ("a NUL string", "a\0b");
        yield return ("a non-ASCII string", "ключ");
        yield return ("long.MinValue", long.MinValue);
        yield return ("long.MaxValue", long.MaxValue);
        yield return ("a huge number", new RawJson("1e400"));
        yield return ("a huge integer", new RawJson("99999999999999999999999999"));
        yield return ("-1", -1);
        yield return ("true", true);
        if (kind != "string")
        {
            yield return ("a string", "abc");
        }
    }

    // A number JSON can carry but .NET cannot hold, written as it is.
    private sealed record RawJson(string Text);

    private static HttpContent Json(Dictionary<string, object?> body)
    {
        var text = JsonSerializer.Serialize(body.ToDictionary(p => p.Key, p => p.Value is RawJson ? $"\u0001{((RawJson)p.Value).Text}\u0001" : p.Value));
        text = RawNumber().Replace(text, m => m.Groups["n"].Value);
        return new StringContent(text, Encoding.UTF8, "application/json");
    }

    [GeneratedRegex(@"""\\u0001(?<n>[^\\]+)\\u0001""")]
    private static partial Regex RawNumber();

    // The request body's schema (its $ref resolved), if the operation takes JSON.
    private static JsonElement? RequestSchema(JsonElement document, JsonElement operation) =>
        operation.TryGetProperty("requestBody", out var body)
        && body.TryGetProperty("content", out var content)
        && content.TryGetProperty("application/json", out var json)
        && json.TryGetProperty("schema", out var schema)
            ? Resolve(document, schema)
            : null;

    private static JsonElement Resolve(JsonElement document, JsonElement schema)
    {
        while (schema.TryGetProperty("$ref", out var reference))
        {
            schema = reference.GetString()!.TrimStart('#', '/').Split('/')
                .Aggregate(document, (node, step) => node.GetProperty(step));
        }
        return schema;
    }

    // The body's required members with plausible values, so a probe that spoils one member reaches that member's check.
    private static Dictionary<string, object?> MinimalBody(JsonElement document, JsonElement schema)
    {
        var body = new Dictionary<string, object?>();
        if (!schema.TryGetProperty("properties", out var properties))
        {
            return body;
        }
        var required = schema.TryGetProperty("required", out var names) ? names.EnumerateArray().Select(n => n.GetString()).ToHashSet() : [];
        foreach (var property in properties.EnumerateObject())
        {
            var type = Resolve(document, property.Value);
            var kinds = type.TryGetProperty("type", out var t) ? (t.ValueKind == JsonValueKind.Array ? t.EnumerateArray().Select(k => k.GetString()).ToList() : [t.GetString()]) : [];
            body[property.Name] = (kinds.FirstOrDefault(k => k != "null"), type.TryGetProperty("format", out var f) ? f.GetString() : null) switch
            {
                ("string", "uuid") => Guid.NewGuid().ToString(),
                ("string", "date-time") => "2026-12-06T00:00:00Z",
                ("string", _) when type.TryGetProperty("enum", out var values) => values[0].GetString(),
                ("string", _) => "probe",
                ("integer", _) => 1L,
                ("number", _) => 1.0,
                ("boolean", _) => false,
                ("array", _) => Array.Empty<object>(), // so that its elements are probed too (WrongValues)
                _ when required.Contains(property.Name) => null,
                _ => "skip",
            };
            if (body[property.Name] is "skip")
            {
                body.Remove(property.Name);
            }
        }
        return body;
    }

    private static bool IsDeviceOperation(Operation operation) =>
        operation.Definition.TryGetProperty("security", out var security) && security.GetRawText().Contains("DeviceToken", StringComparison.Ordinal);

    private static string Printable(string value) => value.Replace("\0", "%00", StringComparison.Ordinal);

    // The answer's status, and what is wrong with it if anything.
    private static async Task<(int Status, string? Problem)> SendAsync(HttpClient client, Probe probe, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(new HttpMethod(probe.Operation.Method), probe.Path + probe.Query) { Content = probe.Body() };
        // A stream's length is known, so HttpClient would declare it: a streamed probe is sent chunked instead.
        request.Headers.TransferEncodingChunked = request.Content is StreamContent;
        if (probe.Header is { } header)
        {
            request.Headers.TryAddWithoutValidation(header.Name, header.Value);
        }
        try
        {
            using var response = await client.SendAsync(request, ct);
            var status = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync(ct);
            if (status >= 500)
            {
                return (status, $"{status} {Excerpt(body)}");
            }
            if (Internals().Match(body) is { Success: true } leak)
            {
                return (status, $"{status} leaks '{leak.Value}': {Excerpt(body)}");
            }
            if (status >= 400 && body.Length > 0 && !(response.Content.Headers.ContentType?.MediaType is "application/problem+json" or "application/json"))
            {
                return (status, $"{status} is not a problem ({response.Content.Headers.ContentType}): {Excerpt(body)}");
            }
            return (status, null);
        }
        catch (HttpRequestException) when (request.Content is StreamContent)
        {
            // A chunked body over the limit: the edge answers 413 and closes the connection, as HTTP lets it (it cannot
            // read the rest), and HttpClient, still sending, often reports the closed connection instead of the answer.
            return (ClosedWhileSending, null);
        }
        catch (HttpRequestException ex)
        {
            return (0, $"no answer: {ex.Message}");
        }
    }

    private const int ClosedWhileSending = 0;

    private static string Excerpt(string body) => body.Length <= 300 ? body : body[..300] + "…";

    // A stack trace, an exception's or a framework type's name, an address or a connection string, the parser's words.
    [GeneratedRegex(@"\bat [\w.`<>]+\(|\w+Exception\b|\bSystem\.\w|\bMicrosoft\.\w|Npgsql|127\.0\.0\.1|localhost:\d|Host=|Password=|Username=|amqp://|LineNumber|BytePositionInLine|Path: \$|JSON payload|depth")]
    private static partial Regex Internals();
}
