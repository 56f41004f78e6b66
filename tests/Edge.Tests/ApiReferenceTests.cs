using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Testing;

namespace Edge.Tests;

// All five services behind one edge, started once for the tests that only read the reference.
public sealed class ApiReferenceSystem(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    public GatewaySystem System { get; private set; } = null!;

    // Nothing here talks to a model; Chat only needs to know where one would be.
    public static readonly Dictionary<string, string?> Settings = new() { ["Chat:Upstream:BaseUrl"] = "http://127.0.0.1:9/v1" };

    public async ValueTask InitializeAsync() =>
        System = await GatewaySystem.StartAsync(infrastructure, GatewaySystem.AllServices, settings: Settings);

    public ValueTask DisposeAsync() => System.DisposeAsync();
}

// The public API reference: /openapi.json merges what the services describe, /docs renders it.
public sealed class ApiReferenceTests(ApiReferenceSystem reference, GatewayInfrastructure infrastructure) : IClassFixture<ApiReferenceSystem>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<JsonElement> DocumentAsync(GatewaySystem system)
    {
        using var client = system.CreateEdgeClient();
        return await client.GetFromJsonAsync<JsonElement>("/openapi.json", Ct);
    }

    private static IReadOnlyList<string> Paths(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();

    [Theory]
    [InlineData("/api/auth/register", "post")]
    [InlineData("/api/auth/login", "post")]
    [InlineData("/api/keys", "post")]
    [InlineData("/api/tokens/balance", "get")]
    [InlineData("/v1/chat/completions", "post")]
    [InlineData("/v1/responses", "post")]
    [InlineData("/v1/embeddings", "post")]
    [InlineData("/v1/models/{id}", "get")]
    [InlineData("/api/devices", "get")]
    public async Task The_merged_document_describes_a_public_route_of_every_service(string path, string method)
    {
        var document = await DocumentAsync(reference.System);

        Assert.True(document.GetProperty("paths").TryGetProperty(path, out var item), $"{path} is missing; paths: {string.Join(", ", Paths(document))}");
        Assert.True(item.TryGetProperty(method, out _), $"{method.ToUpperInvariant()} {path} is missing");
    }

    // A field is listed as required only when a request without it is refused; optional ones are not.
    [Theory]
    [InlineData("ChatRequest", "message")]
    [InlineData("CreateApiKeyRequest", "name")]
    [InlineData("RegisterRequest", "email,password")]
    [InlineData("RegisterDeviceRequest", "name")]
    [InlineData("NewSession", "")]
    public async Task A_request_body_lists_as_required_only_what_must_be_sent(string schema, string required)
    {
        var document = await DocumentAsync(reference.System);

        var described = document.GetProperty("components").GetProperty("schemas").GetProperty(schema);
        var listed = described.TryGetProperty("required", out var names) ? names.EnumerateArray().Select(n => n.GetString()!).Order().ToList() : [];
        Assert.Equal(required.Split(',', StringSplitOptions.RemoveEmptyEntries).Order(), listed);
    }

    // Strings are read through the services' own converter, which hid their type from the generator ("any").
    [Theory]
    [InlineData("ChatRequest", "message")]
    [InlineData("LoginRequest", "email")]
    [InlineData("CreateApiKeyRequest", "name")]
    [InlineData("IconRequest", "prompt")]
    public async Task A_string_field_is_described_as_a_string(string schema, string property)
    {
        var document = await DocumentAsync(reference.System);

        var described = document.GetProperty("components").GetProperty("schemas").GetProperty(schema).GetProperty("properties").GetProperty(property);
        Assert.True(described.TryGetProperty("type", out var type), $"{schema}.{property}: {described}");
        Assert.Contains("string", type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()) : [type.GetString()]);
    }

    // The services also read numbers written as strings; the reference says what they write: numbers.
    [Theory]
    [InlineData("BalanceResponse", "balance", "integer")]
    [InlineData("CreateApiKeyRequest", "name", "string")]
    [InlineData("DeviceResponse", "name", "string")]
    public async Task A_number_is_described_as_a_number_only(string schema, string property, string kind)
    {
        var document = await DocumentAsync(reference.System);

        var described = document.GetProperty("components").GetProperty("schemas").GetProperty(schema).GetProperty("properties").GetProperty(property);
        var type = described.GetProperty("type");
        var types = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()).ToList() : [type.GetString()];
        Assert.Equal([kind], types.Where(t => t != "null"));
        Assert.False(kind != "string" && described.TryGetProperty("pattern", out _), $"{schema}.{property}: {described}");
    }

    [Theory]
    [InlineData("DeviceResponse", "version")]
    [InlineData("RegisterRequest", "name")]
    public async Task A_string_that_may_be_null_says_so(string schema, string property)
    {
        var document = await DocumentAsync(reference.System);

        var type = document.GetProperty("components").GetProperty("schemas").GetProperty(schema).GetProperty("properties").GetProperty(property).GetProperty("type");
        Assert.Equal(["null", "string"], type.EnumerateArray().Select(t => t.GetString()).Order());
    }

    [Theory]
    [InlineData("/api/devices/{id}/heartbeat")]
    [InlineData("/api/customer-sessions")]
    public async Task What_a_device_sends_requires_the_device_token(string path)
    {
        var document = await DocumentAsync(reference.System);

        var operation = document.GetProperty("paths").GetProperty(path).GetProperty("post");
        var requirement = Assert.Single(operation.GetProperty("security").EnumerateArray());
        Assert.Equal(["DeviceToken"], requirement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("DeviceToken").GetProperty("scheme").GetString());
        Assert.DoesNotContain("x-gateway-", operation.GetRawText());
    }

    [Fact]
    public async Task Streamed_answers_and_bodies_read_by_hand_are_described()
    {
        var document = await DocumentAsync(reference.System);
        var paths = document.GetProperty("paths");

        var chat = paths.GetProperty("/api/chat").GetProperty("post");
        var answers = chat.GetProperty("responses").GetProperty("200").GetProperty("content");
        Assert.True(answers.TryGetProperty("text/event-stream", out _), $"POST /api/chat 200: {answers}");
        Assert.True(answers.TryGetProperty("application/json", out _), $"POST /api/chat 200: {answers}");
        Assert.Contains("Server-Sent Events", chat.GetProperty("description").GetString());
        Assert.Contains("WebSocket", paths.GetProperty("/api/events").GetProperty("get").GetProperty("description").GetString());
        foreach (var path in new[] { "/api/auth/refresh", "/api/auth/logout", "/api/devices/{id}/heartbeat" })
        {
            var body = paths.GetProperty(path).GetProperty("post").GetProperty("requestBody");
            Assert.False(body.TryGetProperty("required", out var required) && required.GetBoolean(), $"{path}: {body}");
            Assert.True(body.GetProperty("content").TryGetProperty("application/json", out _), $"{path}: {body}");
        }
    }

    // /docs lists operations by tag and names each by its summary: an operation without one shows as its bare path,
    // and one without a tag of its own falls under the service's assembly name ("Gateway.Chat").
    [Fact]
    public async Task Every_operation_says_what_it_does_and_belongs_to_an_area()
    {
        var document = await DocumentAsync(reference.System);

        var operations = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject()
                .Where(o => o.Name is "get" or "put" or "post" or "delete" or "patch")
                .Select(o => (Name: $"{o.Name.ToUpperInvariant()} {path.Name}", Operation: o.Value)))
            .ToList();
        Assert.NotEmpty(operations);
        Assert.Empty(operations
            .Where(o => !o.Operation.TryGetProperty("summary", out var summary) || string.IsNullOrWhiteSpace(summary.GetString()))
            .Select(o => o.Name));
        Assert.Empty(operations
            .Where(o => !o.Operation.TryGetProperty("tags", out var tags) || tags.GetArrayLength() == 0
                || tags.EnumerateArray().Any(t => t.GetString()!.StartsWith("Gateway.", StringComparison.Ordinal)))
            .Select(o => o.Name));
    }

    [Fact]
    public async Task Internal_health_and_key_set_paths_are_not_in_the_document()
    {
        var paths = Paths(await DocumentAsync(reference.System));

        Assert.NotEmpty(paths);
        Assert.DoesNotContain(paths, p => p.StartsWith("/internal", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(paths, p => p.StartsWith("/health", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(paths, p => p.StartsWith("/.well-known", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(paths, p => p.StartsWith("/openapi", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Every_path_in_the_document_is_answered_by_the_edge_not_with_404()
    {
        var document = await DocumentAsync(reference.System);
        using var client = reference.System.CreateEdgeClient();

        foreach (var path in Paths(document).Where(p => !p.Contains('{')))
        {
            var method = document.GetProperty("paths").GetProperty(path).EnumerateObject().First(o => o.Name is "get" or "post" or "put" or "patch" or "delete").Name;
            using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), path), Ct);
            Assert.True(response.StatusCode != HttpStatusCode.NotFound, $"{method.ToUpperInvariant()} {path} is 404 at the edge");
        }
    }

    [Fact]
    public async Task Both_ways_to_authenticate_are_declared_and_required_by_default()
    {
        var document = await DocumentAsync(reference.System);

        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        var bearer = schemes.GetProperty("Bearer");
        Assert.Equal("http", bearer.GetProperty("type").GetString());
        Assert.Equal("bearer", bearer.GetProperty("scheme").GetString());
        Assert.Equal("JWT", bearer.GetProperty("bearerFormat").GetString());
        var apiKey = schemes.GetProperty("ApiKey");
        Assert.Equal("apiKey", apiKey.GetProperty("type").GetString());
        Assert.Equal("header", apiKey.GetProperty("in").GetString());
        Assert.Equal("x-api-key", apiKey.GetProperty("name").GetString());
        var security = document.GetProperty("security").EnumerateArray().SelectMany(r => r.EnumerateObject().Select(p => p.Name)).ToList();
        Assert.Equal(["Bearer", "ApiKey"], security);
    }

    [Theory]
    [InlineData("/api/auth/register", "post", "none")]
    [InlineData("/api/auth/login", "post", "none")]
    [InlineData("/api/auth/me", "get", "any")]
    [InlineData("/v1/chat/completions", "post", "any")]
    // Managing keys and devices takes a person's access token; an API key is refused there (the device trial read the
    // global "Bearer or ApiKey" on every device route).
    [InlineData("/api/keys", "post", "people")]
    [InlineData("/api/devices/register", "post", "people")]
    public async Task Operations_say_who_may_call_them_and_the_rest_keep_the_global_requirement(string path, string method, string callers)
    {
        var document = await DocumentAsync(reference.System);

        var operation = document.GetProperty("paths").GetProperty(path).GetProperty(method);
        switch (callers)
        {
            case "any":
                Assert.False(operation.TryGetProperty("security", out _));
                break;
            case "none":
                Assert.Empty(operation.GetProperty("security").EnumerateArray());
                break;
            default:
                var requirement = Assert.Single(operation.GetProperty("security").EnumerateArray());
                Assert.Equal(["Bearer"], requirement.EnumerateObject().Select(p => p.Name));
                break;
        }
        Assert.DoesNotContain("x-gateway-", operation.GetRawText());
    }

    [Fact]
    public async Task The_server_is_the_edge_itself()
    {
        var document = await DocumentAsync(reference.System);

        var server = Assert.Single(document.GetProperty("servers").EnumerateArray());
        Assert.Equal(reference.System.Edge.Address.ToString().TrimEnd('/'), server.GetProperty("url").GetString());
    }

    [Fact]
    public async Task Every_schema_reference_resolves_within_the_document()
    {
        var document = await DocumentAsync(reference.System);
        var json = document.GetRawText();

        var references = System.Text.RegularExpressions.Regex.Matches(json, "\"\\$ref\":\"#/components/(\\w+)/([^\"]+)\"")
            .Select(m => (Kind: m.Groups[1].Value, Name: m.Groups[2].Value)).Distinct().ToList();

        Assert.NotEmpty(references);
        var components = document.GetProperty("components");
        Assert.All(references, r => Assert.True(
            components.TryGetProperty(r.Kind, out var kind) && kind.TryGetProperty(r.Name, out _), $"#/components/{r.Kind}/{r.Name} is not defined"));
    }

    [Fact]
    public async Task The_docs_page_is_html_loading_the_merged_document_and_its_script_from_the_edge()
    {
        using var client = reference.System.CreateEdgeClient();

        using var page = await client.GetAsync("/docs", Ct);
        var html = await page.Content.ReadAsStringAsync(Ct);
        // Where the browser ends up, and what it then loads relative to it.
        var pageUrl = page.RequestMessage!.RequestUri!;
        using var bundle = await client.GetAsync(new Uri(pageUrl, "scalar.js"), Ct);
        var loader = await client.GetStringAsync(new Uri(pageUrl, "scalar.aspnetcore.js"), Ct);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal("/docs/", pageUrl.AbsolutePath);
        // Scalar resolves a relative source against the site's root: /openapi.json.
        Assert.Contains("\"url\":\"openapi.json\"", html);
        Assert.Equal(HttpStatusCode.OK, bundle.StatusCode);
        Assert.Equal("text/javascript", bundle.Content.Headers.ContentType?.MediaType);
        Assert.Contains("${window.location.origin}${basePath}/", loader);
        // Nothing from a CDN: no fonts, no telemetry, no external script.
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("\"telemetry\":true", html);
        Assert.Contains("\"withDefaultFonts\":false", html);
        // Nor Scalar's own toolbar (deploy, share, generate an SDK), which it shows on localhost unless told not to.
        Assert.Contains("\"showDeveloperTools\":\"never\"", html);
    }

    [Fact]
    public async Task With_a_service_down_the_others_are_still_described_and_the_missing_one_is_named()
    {
        await using var system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity, GatewayService.Keys]);
        await system[GatewayService.Keys].DisposeAsync();

        using var client = system.CreateEdgeClient();
        using var response = await client.GetAsync("/openapi.json", Ct);
        var document = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var paths = Paths(document);
        Assert.Contains("/api/auth/register", paths);
        Assert.DoesNotContain(paths, p => p.StartsWith("/api/keys", StringComparison.Ordinal));
        var description = document.GetProperty("info").GetProperty("description").GetString()!;
        Assert.Contains("keys (connection refused or lost)", description);
        Assert.DoesNotContain("127.0.0.1", description);
    }
}
