using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Testing;

// The part of a Kubernetes API server that Chat's KubernetesRuntime uses, on a local port (the cluster is the outside
// world, as Stripe is): namespaced objects of any kind stored as JSON by kind, namespace and name, with create (409
// AlreadyExists), get, list by equality label selector, replace (409 Conflict on a stale resourceVersion) and delete,
// every error a Status object as the real server answers. One controller's work is done here too: a Deployment with
// replicas has a pod made from its template (a changed template replaces it, Recreate-style), and deleting a
// Deployment deletes its pods. Pods then stay Pending until the test (MarkReady, Crash, FailToPull) or the kubelet
// (LocalKubelet, when it knows the pod's image) says otherwise. No watch, patch, admission, scheduling or quotas.
public sealed class LocalKubernetes : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Plural, string Namespace, string Name), JsonObject> _objects = [];
    private readonly HashSet<string> _namespaces;
    private readonly List<string> _requests = [];
    private long _version;

    private LocalKubernetes(WebApplication app, IEnumerable<string> namespaces)
    {
        _app = app;
        _namespaces = [.. namespaces];
    }

    // http://127.0.0.1:PORT/ — what KubernetesClientConfiguration.Host is set to.
    public Uri Address { get; private set; } = null!;

    // While set, every request is answered 503 (an API server that is down or overloaded).
    public bool Unavailable { get; set; }

    // Runs the pods whose image it knows, when given (LocalKubelet).
    public LocalKubelet? Kubelet { get; set; }

    // "METHOD path?query" of every request, in order (no bodies).
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task<LocalKubernetes> StartAsync(params string[] namespaces)
    {
        var builder = WebApplication.CreateSlimBuilder([$"--urls=http://127.0.0.1:0"]);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var server = new LocalKubernetes(app, namespaces);
        app.Use(async (http, next) =>
        {
            if (server.Unavailable)
            {
                lock (server._gate)
                {
                    server.Record(http);
                }
                await Status(503, "ServiceUnavailable", "the server is currently unable to handle the request").ExecuteAsync(http);
                return;
            }
            await next(http);
        });
        foreach (var prefix in new[] { "/api/{version}", "/apis/{group}/{version}" })
        {
            app.MapGet($"{prefix}/namespaces/{{namespace}}/{{plural}}", (HttpContext http, string @namespace, string plural, string? labelSelector) =>
                server.List(http, @namespace, plural, labelSelector));
            app.MapPost($"{prefix}/namespaces/{{namespace}}/{{plural}}", async (HttpContext http, string @namespace, string plural) =>
                server.Create(http, @namespace, plural, await ReadAsync(http)));
            app.MapGet($"{prefix}/namespaces/{{namespace}}/{{plural}}/{{name}}", (HttpContext http, string @namespace, string plural, string name) =>
                server.Get(http, @namespace, plural, name));
            app.MapPut($"{prefix}/namespaces/{{namespace}}/{{plural}}/{{name}}", async (HttpContext http, string @namespace, string plural, string name) =>
                server.Replace(http, @namespace, plural, name, await ReadAsync(http)));
            app.MapDelete($"{prefix}/namespaces/{{namespace}}/{{plural}}/{{name}}", (HttpContext http, string @namespace, string plural, string name) =>
                server.Delete(http, @namespace, plural, name));
        }
        app.MapFallback((HttpContext http) => Status(404, "NotFound", $"the server could not find the requested resource ({http.Request.Method} {http.Request.Path})"));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server.Address = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    // What is stored, as the client's models (null when there is no such object).
    public T? Get<T>(string plural, string @namespace, string name) where T : class
    {
        lock (_gate)
        {
            return _objects.TryGetValue((plural, @namespace, name), out var stored) ? KubernetesJson.Deserialize<T>(stored.ToJsonString()) : null;
        }
    }

    public IReadOnlyList<T> List<T>(string plural, string @namespace, string? labelSelector = null)
    {
        lock (_gate)
        {
            return [.. Matching(plural, @namespace, labelSelector).Select(o => KubernetesJson.Deserialize<T>(o.ToJsonString()))];
        }
    }

    // Every object stored, as "plural/name", in a namespace.
    public IReadOnlyList<string> Names(string @namespace)
    {
        lock (_gate)
        {
            return [.. _objects.Keys.Where(k => k.Namespace == @namespace).Select(k => $"{k.Plural}/{k.Name}").Order(StringComparer.Ordinal)];
        }
    }

    // The kubelet's reports, written as it writes them into a pod's status.
    public void MarkReady(V1Pod pod, string podIP) => SetPodStatus(pod, status =>
    {
        status["phase"] = "Running";
        status["podIP"] = podIP;
        status["conditions"] = Conditions(ready: true);
        status["containerStatuses"] = new JsonArray(ContainerStatuses(pod, ready: true, restarts: 0, state: new JsonObject { ["running"] = new JsonObject { ["startedAt"] = Now() } }));
    });

    // Its container ended and Kubernetes restarted it, more than once: CrashLoopBackOff, the last end in lastState.
    public void Crash(V1Pod pod, string reason, int exitCode, int restarts = 3) => SetPodStatus(pod, status =>
    {
        status["phase"] = "Running";
        status["conditions"] = Conditions(ready: false);
        var container = ContainerStatuses(pod, ready: false, restarts, new JsonObject
        {
            ["waiting"] = new JsonObject { ["reason"] = "CrashLoopBackOff", ["message"] = $"back-off 40s restarting failed container={pod.Spec.Containers[0].Name} pod={pod.Metadata.Name}" },
        });
        container["lastState"] = new JsonObject { ["terminated"] = new JsonObject { ["exitCode"] = exitCode, ["reason"] = reason, ["finishedAt"] = Now() } };
        status["containerStatuses"] = new JsonArray(container);
    });

    public void FailToPull(V1Pod pod) => SetPodStatus(pod, status =>
    {
        status["phase"] = "Pending";
        status["conditions"] = Conditions(ready: false);
        status["containerStatuses"] = new JsonArray(ContainerStatuses(pod, ready: false, restarts: 0, new JsonObject
        {
            ["waiting"] = new JsonObject { ["reason"] = "ImagePullBackOff", ["message"] = $"Back-off pulling image \"{pod.Spec.Containers[0].Image}\"" },
        }));
    });

    private IResult List(HttpContext http, string @namespace, string plural, string? labelSelector)
    {
        lock (_gate)
        {
            Record(http);
            var items = new JsonArray([.. Matching(plural, @namespace, labelSelector).Select(o => o.DeepClone())]);
            return Json(200, new JsonObject
            {
                ["apiVersion"] = ApiVersion(http), ["kind"] = $"{Kind(plural)}List",
                ["metadata"] = new JsonObject { ["resourceVersion"] = _version.ToString() }, ["items"] = items,
            });
        }
    }

    private IResult Create(HttpContext http, string @namespace, string plural, JsonObject body)
    {
        lock (_gate)
        {
            Record(http);
            if (!_namespaces.Contains(@namespace))
            {
                return Status(404, "NotFound", $"namespaces \"{@namespace}\" not found", "namespaces", @namespace);
            }
            var name = body["metadata"]?["name"]?.GetValue<string>();
            if (name is null)
            {
                return Status(422, "Invalid", $"{Qualified(http, plural)} is invalid: metadata.name: Required value", plural, "");
            }
            if (_objects.ContainsKey((plural, @namespace, name)))
            {
                return Status(409, "AlreadyExists", $"{Qualified(http, plural)} \"{name}\" already exists", plural, name);
            }
            var stored = Store(http, plural, @namespace, name, body, previous: null);
            if (plural == "deployments")
            {
                Reconcile(@namespace, stored, previousTemplate: null);
            }
            return Json(201, stored.DeepClone());
        }
    }

    private IResult Get(HttpContext http, string @namespace, string plural, string name)
    {
        lock (_gate)
        {
            Record(http);
            return _objects.TryGetValue((plural, @namespace, name), out var stored)
                ? Json(200, stored.DeepClone())
                : Status(404, "NotFound", $"{Qualified(http, plural)} \"{name}\" not found", plural, name);
        }
    }

    private IResult Replace(HttpContext http, string @namespace, string plural, string name, JsonObject body)
    {
        lock (_gate)
        {
            Record(http);
            if (!_objects.TryGetValue((plural, @namespace, name), out var previous))
            {
                return Status(404, "NotFound", $"{Qualified(http, plural)} \"{name}\" not found", plural, name);
            }
            var version = body["metadata"]?["resourceVersion"]?.GetValue<string>();
            if (version is not null && version != previous["metadata"]!["resourceVersion"]!.GetValue<string>())
            {
                return Status(409, "Conflict",
                    $"Operation cannot be fulfilled on {Qualified(http, plural)} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                    plural, name);
            }
            var stored = Store(http, plural, @namespace, name, body, previous);
            if (plural == "deployments")
            {
                Reconcile(@namespace, stored, previous["spec"]?["template"]?.ToJsonString());
            }
            return Json(200, stored.DeepClone());
        }
    }

    private IResult Delete(HttpContext http, string @namespace, string plural, string name)
    {
        lock (_gate)
        {
            Record(http);
            if (!_objects.Remove((plural, @namespace, name), out var removed))
            {
                return Status(404, "NotFound", $"{Qualified(http, plural)} \"{name}\" not found", plural, name);
            }
            if (plural == "deployments")
            {
                // The garbage collector's work: the Deployment's pods go with it.
                foreach (var pod in PodsOf(@namespace, name))
                {
                    RemovePod(@namespace, pod);
                }
            }
            if (plural == "pods")
            {
                Kubelet?.Stop(@namespace, name);
            }
            if (plural == "persistentvolumeclaims")
            {
                Kubelet?.Release(@namespace, name);
            }
            // The real server answers a deleted pod, Service or claim with the object, and others with a Status.
            return plural is "pods" or "services" or "persistentvolumeclaims"
                ? Json(200, removed)
                : Json(200, new JsonObject
                {
                    ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success",
                    ["details"] = new JsonObject { ["name"] = name, ["kind"] = plural, ["uid"] = removed["metadata"]!["uid"]!.DeepClone() },
                });
        }
    }

    // A Deployment's controller: one pod per replica from the current template; a new template replaces them.
    private void Reconcile(string @namespace, JsonObject deployment, string? previousTemplate)
    {
        var name = deployment["metadata"]!["name"]!.GetValue<string>();
        var template = deployment["spec"]!["template"]!;
        var pods = PodsOf(@namespace, name).ToList();
        if (previousTemplate is not null && previousTemplate != template.ToJsonString())
        {
            foreach (var pod in pods)
            {
                RemovePod(@namespace, pod);
            }
            pods.Clear();
        }
        var replicas = deployment["spec"]!["replicas"]?.GetValue<int>() ?? 1;
        for (var i = pods.Count; i < replicas; i++)
        {
            var podName = $"{name}-{Guid.NewGuid().ToString("N")[..5]}";
            var pod = new JsonObject
            {
                ["apiVersion"] = "v1", ["kind"] = "Pod",
                ["metadata"] = new JsonObject
                {
                    ["name"] = podName, ["namespace"] = @namespace,
                    ["labels"] = template["metadata"]?["labels"]?.DeepClone(), ["annotations"] = template["metadata"]?["annotations"]?.DeepClone(),
                    // Really a ReplicaSet of the Deployment; one level is enough here.
                    ["ownerReferences"] = new JsonArray(new JsonObject { ["apiVersion"] = "apps/v1", ["kind"] = "Deployment", ["name"] = name, ["uid"] = deployment["metadata"]!["uid"]!.DeepClone() }),
                },
                ["spec"] = template["spec"]!.DeepClone(),
                ["status"] = new JsonObject { ["phase"] = "Pending", ["conditions"] = Conditions(ready: false) },
            };
            Stamp(pod, previous: null);
            _objects[("pods", @namespace, podName)] = pod;
            Kubelet?.Run(this, KubernetesJson.Deserialize<V1Pod>(pod.ToJsonString()));
        }
    }

    private IEnumerable<string> PodsOf(string @namespace, string deployment) =>
        _objects.Where(o => o.Key.Plural == "pods" && o.Key.Namespace == @namespace
                && o.Value["metadata"]?["ownerReferences"]?.AsArray().Any(r => r?["name"]?.GetValue<string>() == deployment) == true)
            .Select(o => o.Key.Name).ToList();

    private void RemovePod(string @namespace, string pod)
    {
        _objects.Remove(("pods", @namespace, pod));
        Kubelet?.Stop(@namespace, pod);
    }

    private void SetPodStatus(V1Pod pod, Action<JsonObject> change)
    {
        lock (_gate)
        {
            if (_objects.TryGetValue(("pods", pod.Metadata.NamespaceProperty, pod.Metadata.Name), out var stored))
            {
                var status = stored["status"] as JsonObject ?? [];
                change(status);
                stored["status"] = status;
                stored["metadata"]!["resourceVersion"] = (++_version).ToString();
            }
        }
    }

    private JsonObject Store(HttpContext http, string plural, string @namespace, string name, JsonObject body, JsonObject? previous)
    {
        body["apiVersion"] ??= ApiVersion(http);
        body["kind"] ??= Kind(plural);
        var metadata = body["metadata"]!.AsObject();
        metadata["namespace"] = @namespace;
        metadata["name"] = name;
        Stamp(body, previous);
        _objects[(plural, @namespace, name)] = body;
        return body;
    }

    private void Stamp(JsonObject body, JsonObject? previous)
    {
        var metadata = body["metadata"]!.AsObject();
        metadata["uid"] = previous?["metadata"]?["uid"]?.DeepClone() ?? Guid.NewGuid().ToString();
        metadata["creationTimestamp"] = previous?["metadata"]?["creationTimestamp"]?.DeepClone() ?? Now();
        metadata["resourceVersion"] = (++_version).ToString();
    }

    private IEnumerable<JsonObject> Matching(string plural, string @namespace, string? labelSelector)
    {
        var wanted = (labelSelector ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(term => term.Split("!=") is [var key, var value] ? (Key: key, Value: value, Equal: false)
                : term.Replace("==", "=").Split('=') is [var k, var v] ? (Key: k, Value: v, Equal: true)
                : throw new NotSupportedException($"LocalKubernetes reads equality selectors only, not '{term}'."))
            .ToList();
        return _objects.Where(o => o.Key.Plural == plural && o.Key.Namespace == @namespace)
            .Select(o => o.Value)
            .Where(o => wanted.All(w => (o["metadata"]?["labels"]?[w.Key]?.GetValue<string>() == w.Value) == w.Equal))
            .OrderBy(o => o["metadata"]!["name"]!.GetValue<string>(), StringComparer.Ordinal);
    }

    private JsonObject ContainerStatuses(V1Pod pod, bool ready, int restarts, JsonObject state) => new()
    {
        ["name"] = pod.Spec.Containers[0].Name, ["image"] = pod.Spec.Containers[0].Image, ["ready"] = ready,
        ["restartCount"] = restarts, ["state"] = state,
    };

    private static JsonArray Conditions(bool ready) => new(
        new JsonObject { ["type"] = "PodScheduled", ["status"] = "True" },
        new JsonObject { ["type"] = "Ready", ["status"] = ready ? "True" : "False" },
        new JsonObject { ["type"] = "ContainersReady", ["status"] = ready ? "True" : "False" });

    private void Record(HttpContext http) => _requests.Add($"{http.Request.Method} {http.Request.Path}{http.Request.QueryString}");

    private static async Task<JsonObject> ReadAsync(HttpContext http) =>
        (await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted))!.AsObject();

    private static string ApiVersion(HttpContext http) =>
        http.Request.RouteValues["group"] is string group ? $"{group}/{http.Request.RouteValues["version"]}" : $"{http.Request.RouteValues["version"]}";

    private static string Qualified(HttpContext http, string plural) =>
        http.Request.RouteValues["group"] is string group ? $"{plural}.{group}" : plural;

    private static string Kind(string plural) => plural switch
    {
        "deployments" => "Deployment",
        "pods" => "Pod",
        "secrets" => "Secret",
        "services" => "Service",
        "persistentvolumeclaims" => "PersistentVolumeClaim",
        _ => throw new NotSupportedException($"LocalKubernetes does not know the kind of '{plural}'."),
    };

    private static string Now() => DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ");

    private static IResult Json(int status, JsonNode body) => Results.Text(body.ToJsonString(), "application/json", statusCode: status);

    private static IResult Status(int code, string reason, string message, string? kind = null, string? name = null) => Json(code, new JsonObject
    {
        ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Failure", ["message"] = message,
        ["reason"] = reason, ["details"] = kind is null ? null : new JsonObject { ["name"] = name, ["kind"] = kind }, ["code"] = code,
    });

    public async ValueTask DisposeAsync()
    {
        if (Kubelet is not null)
        {
            await Kubelet.DisposeAsync();
        }
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(stopping.Token);
        await _app.DisposeAsync();
    }
}
