using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.ServiceDefaults;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Edge.ApiReference;

// One OpenAPI document for everything the edge serves: each cluster's service is asked for its own
// document, only the operations the edge's routes send to that service are kept, and component names
// that two services use for different things are namespaced by service ("billing.Balance").
public sealed class MergedOpenApiDocument(
    IProxyConfigProvider proxyConfig,
    IHttpClientFactory httpClients,
    IOptions<ApiReferenceOptions> options,
    TimeProvider time,
    ILogger<MergedOpenApiDocument> logger)
{
    public const string HttpClientName = "openapi-documents";
    public const string BearerScheme = "Bearer";
    public const string ApiKeyScheme = "ApiKey";
    public const string DeviceScheme = "DeviceToken";

    private static readonly string[] OperationKeys = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    private readonly SemaphoreSlim _building = new(1, 1);
    private (JsonObject Document, DateTimeOffset Until)? _cached;

    public async Task<string> WriteAsync(string publicUrl, CancellationToken cancellationToken)
    {
        var document = (JsonObject)(await GetAsync(cancellationToken)).DeepClone();
        document["servers"] = new JsonArray(new JsonObject { ["url"] = publicUrl });
        return document.ToJsonString(Json);
    }

    private async Task<JsonObject> GetAsync(CancellationToken cancellationToken)
    {
        if (_cached is { } fresh && fresh.Until > time.GetUtcNow())
        {
            return fresh.Document;
        }
        await _building.WaitAsync(cancellationToken);
        try
        {
            if (_cached is { } built && built.Until > time.GetUtcNow())
            {
                return built.Document;
            }
            var (document, complete) = await BuildAsync(cancellationToken);
            var lifetime = complete ? options.Value.CacheFor : options.Value.CachePartialFor;
            _cached = (document, time.GetUtcNow() + lifetime);
            return document;
        }
        finally
        {
            _building.Release();
        }
    }

    private async Task<(JsonObject Document, bool Complete)> BuildAsync(CancellationToken cancellationToken)
    {
        var config = proxyConfig.GetConfig();
        var routes = new PublicRoutes(config.Routes);
        var services = await Task.WhenAll(config.Clusters
            .Where(cluster => cluster.Destinations is { Count: > 0 })
            .Select(cluster => FetchAsync(cluster, cancellationToken)));

        var paths = new JsonObject();
        var components = new JsonObject();
        var tags = new JsonArray();
        string? version = null;
        foreach (var (service, document) in services.Where(s => s.Document is not null).Select(s => (s.Cluster, s.Document!)))
        {
            version ??= document["openapi"]?.GetValue<string>();
            var renames = NamespaceCollisions(service, document["components"] as JsonObject, components);
            AddComponents(document["components"] as JsonObject, components, renames);
            AddPaths(service, document["paths"] as JsonObject, paths, routes, renames);
            AddTags(document["tags"] as JsonArray, tags);
        }

        components["securitySchemes"] = new JsonObject
        {
            [BearerScheme] = new JsonObject
            {
                ["type"] = "http",
                ["scheme"] = "bearer",
                ["bearerFormat"] = "JWT",
                ["description"] = "A user's access token from POST /api/auth/login or /api/auth/register. "
                    + "An API key is accepted this way too (`Authorization: Bearer sk_live_…`), except where an operation takes this scheme alone: managing keys, devices, members and the vault takes a person.",
            },
            [ApiKeyScheme] = new JsonObject
            {
                ["type"] = "apiKey",
                ["in"] = "header",
                ["name"] = "x-api-key",
                ["description"] = "A user's API key (`sk_live_…`), created with POST /api/keys. Managing keys, devices, members and the vault takes the user's access token instead.",
            },
            [DeviceScheme] = new JsonObject
            {
                ["type"] = "http",
                ["scheme"] = "bearer",
                ["bearerFormat"] = "dvc_…",
                ["description"] = "A device's own token, from POST /api/devices/activate: only for what a device sends (heartbeats, customer sessions).",
            },
        };

        var missing = services.Where(s => s.Document is null).ToList();
        var description = "Every public route of the Gateway edge, merged from the services' own descriptions. "
            + "Authenticate with a user's access token (`Authorization: Bearer <JWT>`) or an API key (`x-api-key: sk_live_…`).";
        if (missing.Count > 0)
        {
            description += "\n\n**Not described right now** (the service did not answer; its routes are missing below): "
                + string.Join(", ", missing.Select(s => $"{s.Cluster} ({s.Error})")) + ".";
        }

        var merged = new JsonObject
        {
            ["openapi"] = version ?? "3.1.1",
            ["info"] = new JsonObject { ["title"] = "Gateway API", ["version"] = "v1", ["description"] = description },
            ["servers"] = new JsonArray(),
            ["paths"] = Sorted(paths),
            ["components"] = components,
            ["security"] = new JsonArray(
                new JsonObject { [BearerScheme] = new JsonArray() },
                new JsonObject { [ApiKeyScheme] = new JsonArray() }),
            ["tags"] = tags,
        };
        return (merged, missing.Count == 0);
    }

    private async Task<(string Cluster, JsonObject? Document, string? Error)> FetchAsync(ClusterConfig cluster, CancellationToken cancellationToken)
    {
        // The cluster's address is a service name (http://billing); service discovery resolves it.
        var address = cluster.Destinations!.Values.First().Address.TrimEnd('/') + OpenApi.DocumentPath;
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).GetAsync(address, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return Missing($"HTTP {(int)response.StatusCode}");
            }
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            return (cluster.ClusterId, await JsonNode.ParseAsync(body, cancellationToken: cancellationToken) as JsonObject, null);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Down, unknown to service discovery, slow or answering nonsense: left out, never fatal.
            logger.LogWarning("The API reference leaves out {Cluster}: {Address} failed: {Error}", cluster.ClusterId, address, exception.Message);
            return (cluster.ClusterId, null, Readiness.DownstreamHealthChecks.NotAnswering(exception));
        }

        (string, JsonObject?, string?) Missing(string error)
        {
            logger.LogWarning("The API reference leaves out {Cluster}: {Address} answered {Error}", cluster.ClusterId, address, error);
            return (cluster.ClusterId, null, error);
        }
    }

    // A component this service names like an earlier service's but defines differently gets the service's
    // name in front; repeated until stable, since renaming one schema changes those that refer to it.
    private static Dictionary<string, string> NamespaceCollisions(string service, JsonObject? theirs, JsonObject merged)
    {
        var renames = new Dictionary<string, string>();
        if (theirs is null)
        {
            return renames;
        }
        bool renamed;
        do
        {
            renamed = false;
            foreach (var (kind, entries) in theirs.Where(k => k.Value is JsonObject))
            {
                foreach (var (name, value) in (JsonObject)entries!)
                {
                    var reference = $"#/components/{kind}/{name}";
                    if (!renames.ContainsKey(reference)
                        && merged[kind]?[name] is { } existing
                        && !JsonNode.DeepEquals(existing, Rewrite(value!.DeepClone(), renames)))
                    {
                        renames[reference] = $"#/components/{kind}/{service}.{name}";
                        renamed = true;
                    }
                }
            }
        }
        while (renamed);
        return renames;
    }

    private static void AddComponents(JsonObject? theirs, JsonObject merged, Dictionary<string, string> renames)
    {
        foreach (var (kind, entries) in theirs?.Where(k => k.Value is JsonObject) ?? [])
        {
            var into = merged[kind] as JsonObject ?? (JsonObject)(merged[kind] = new JsonObject());
            foreach (var (name, value) in (JsonObject)entries!)
            {
                var finalName = renames.TryGetValue($"#/components/{kind}/{name}", out var renamed) ? renamed[(renamed.LastIndexOf('/') + 1)..] : name;
                if (!into.ContainsKey(finalName))
                {
                    into[finalName] = Rewrite(value!.DeepClone(), renames);
                }
            }
        }
    }

    private static void AddPaths(string service, JsonObject? theirs, JsonObject merged, PublicRoutes routes, Dictionary<string, string> renames)
    {
        foreach (var (path, value) in theirs ?? [])
        {
            if (value is not JsonObject item)
            {
                continue;
            }
            var kept = (JsonObject)Rewrite(item.DeepClone(), renames);
            foreach (var method in OperationKeys.Where(kept.ContainsKey))
            {
                // Only what the edge sends to this very service is public through it.
                if (routes.ClusterFor(path, method.ToUpperInvariant()) != service)
                {
                    kept.Remove(method);
                }
            }
            if (!OperationKeys.Any(kept.ContainsKey))
            {
                continue;
            }
            foreach (var operation in OperationKeys.Select(m => kept[m]).OfType<JsonObject>())
            {
                // Needs no caller: overrides the document's global requirement; a device's call needs the device's token.
                if (operation.Remove(OpenApi.AnonymousExtension))
                {
                    operation["security"] = new JsonArray();
                }
                if (operation.Remove(OpenApi.DeviceExtension))
                {
                    operation["security"] = new JsonArray(new JsonObject { [DeviceScheme] = new JsonArray() });
                }
                // Only a person's access token: an API key is refused there (managing keys, devices, members, the vault).
                if (operation.Remove(OpenApi.PeopleExtension))
                {
                    operation["security"] = new JsonArray(new JsonObject { [BearerScheme] = new JsonArray() });
                }
            }
            if (merged[path] is JsonObject existing)
            {
                foreach (var method in OperationKeys.Where(m => kept.ContainsKey(m) && !existing.ContainsKey(m)))
                {
                    existing[method] = kept[method]!.DeepClone();
                }
            }
            else
            {
                merged[path] = kept;
            }
        }
    }

    private static void AddTags(JsonArray? theirs, JsonArray merged)
    {
        foreach (var tag in theirs?.OfType<JsonObject>() ?? [])
        {
            var name = tag["name"]?.GetValue<string>();
            if (!merged.OfType<JsonObject>().Any(t => t["name"]?.GetValue<string>() == name))
            {
                merged.Add(tag.DeepClone());
            }
        }
    }

    private static JsonNode Rewrite(JsonNode node, Dictionary<string, string> renames)
    {
        if (renames.Count == 0)
        {
            return node;
        }
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj.ToList())
                {
                    if (key == "$ref" && child is JsonValue reference && renames.TryGetValue(reference.GetValue<string>(), out var renamed))
                    {
                        obj[key] = renamed;
                    }
                    else if (child is not null)
                    {
                        Rewrite(child, renames);
                    }
                }
                break;
            case JsonArray array:
                foreach (var child in array.OfType<JsonNode>())
                {
                    Rewrite(child, renames);
                }
                break;
        }
        return node;
    }

    private static JsonObject Sorted(JsonObject paths)
    {
        var sorted = new JsonObject();
        foreach (var (path, item) in paths.OrderBy(p => p.Key, StringComparer.Ordinal).ToList())
        {
            paths.Remove(path);
            sorted[path] = item;
        }
        return sorted;
    }
}
