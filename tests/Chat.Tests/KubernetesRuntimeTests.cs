using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Gateway.Chat.Assistants;
using Gateway.MockLlm;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using static Chat.Tests.AssistantTests;

namespace Chat.Tests;

// The system with Chat's assistants on the Kubernetes runtime, pointed at LocalKubernetes (the API server) whose
// LocalKubelet runs the assistant's image as the real program (workloads/Assistant) on 127.0.0.N, reached by pod IP.
public sealed class KubernetesAssistantSystem(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    public const string Namespace = "assistants-test";
    public const string Image = "registry.test/gateway/assistant:1.0.0";

    public GatewaySystem System { get; private set; } = null!;
    public MockLlmServer Model { get; private set; } = null!;
    public LocalKubernetes Cluster { get; private set; } = null!;
    public LocalKubelet Kubelet { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Cluster = await LocalKubernetes.StartAsync(Namespace);
        Kubelet = new LocalKubelet(new Dictionary<string, string> { [Image] = Path.Combine(AppContext.BaseDirectory, "Gateway.Assistant.dll") });
        Cluster.Kubelet = Kubelet;
        Model = await MockLlmServer.StartAsync();
        var settings = AssistantSystem.Settings(idleMinutes: 10);
        settings["Chat:Assistants:Runtime"] = "Kubernetes";
        settings["Chat:Assistants:Kubernetes:Host"] = Cluster.Address.ToString();
        settings["Chat:Assistants:Kubernetes:Namespace"] = Namespace;
        settings["Chat:Assistants:Kubernetes:Image"] = Image;
        settings["Chat:Assistants:Kubernetes:StorageSize"] = "2Gi";
        settings["Chat:Assistants:Kubernetes:StorageClass"] = "fast-ssd";
        settings["Chat:Assistants:Kubernetes:Endpoint"] = "PodIP";
        settings["Chat:Assistants:Kubernetes:Port"] = FreePort().ToString();
        settings["Logging:LogLevel:Gateway.Chat.Assistants"] = "Trace";
        System = await ChatSystem.StartSystemAsync(infrastructure, Model, settings,
            configureServices: (service, services) =>
            {
                if (service == GatewayService.Chat) services.AddFakeLogging();
            });
    }

    public IAssistantRuntime Runtime => System[GatewayService.Chat].Provider.GetRequiredService<IAssistantRuntime>();

    public FakeLogCollector ChatLogs => System[GatewayService.Chat].Provider.GetRequiredService<FakeLogCollector>();

    // A port no process listens on now; each pod listens on it at an address of its own.
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await System.DisposeAsync();
        await Model.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}

[CollectionDefinition(nameof(KubernetesAssistantSystem))]
public sealed class KubernetesAssistantCollection : ICollectionFixture<KubernetesAssistantSystem>;

// Seed 002's assistants in a cluster: what the lifecycle asks for becomes Kubernetes objects through the real
// KubernetesClient, and what the pod reports becomes the assistant's status.
[Collection(nameof(KubernetesAssistantSystem))]
public sealed class KubernetesRuntimeTests(KubernetesAssistantSystem cluster, ITestOutputHelper output)
{
    private const string Namespace = KubernetesAssistantSystem.Namespace;
    private static CancellationToken Cancel => ChatSystem.Cancel;
    private GatewaySystem System => cluster.System;
    private LocalKubernetes Api => cluster.Cluster;

    [Fact]
    public async Task A_started_assistant_is_a_claim_a_secret_a_deployment_and_a_service_runs_once_ready_and_keeps_its_files_across_a_stop()
    {
        var user = await ChatSystem.UserAsync(System);
        var name = $"assistant-{user.UserId:N}";
        var clock = Stopwatch.StartNew();

        using var start = await user.Client.PostAsync("/api/assistant/start", null, Cancel);

        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var claim = Api.Get<V1PersistentVolumeClaim>("persistentvolumeclaims", Namespace, $"{name}-workspace")!;
        Assert.Equal("2Gi", claim.Spec.Resources.Requests["storage"].ToString());
        Assert.Equal("fast-ssd", claim.Spec.StorageClassName);
        Assert.Equal(new[] { "ReadWriteOnce" }, claim.Spec.AccessModes);
        var secret = Api.Get<V1Secret>("secrets", Namespace, $"{name}-secret")!;
        var firstSecret = Encoding.UTF8.GetString(secret.Data["secret"]);
        Assert.True(firstSecret.Length >= 32);
        var deployment = Api.Get<V1Deployment>("deployments", Namespace, name)!;
        Assert.Equal(1, deployment.Spec.Replicas);
        Assert.Equal("Recreate", deployment.Spec.Strategy.Type);
        Assert.Equal(KubernetesAssistant.Fingerprint(firstSecret), deployment.Spec.Template.Metadata.Annotations[KubernetesAssistant.SecretAnnotation]);
        var pod = deployment.Spec.Template.Spec;
        Assert.False(pod.AutomountServiceAccountToken);
        var container = Assert.Single(pod.Containers);
        Assert.Equal(KubernetesAssistantSystem.Image, container.Image);
        Assert.Equal("500m", container.Resources.Limits["cpu"].ToString());
        Assert.Equal("192Mi", container.Resources.Limits["memory"].ToString());
        Assert.Equal("96Mi", container.Resources.Requests["memory"].ToString());
        Assert.Equal("/health", container.ReadinessProbe.HttpGet.Path);
        Assert.DoesNotContain(container.Env ?? [], e => e.Value?.Contains(firstSecret) == true);
        Assert.DoesNotContain(firstSecret, string.Join(' ', container.Args));
        Assert.Contains(container.VolumeMounts, m => m.MountPath == "/workspace" && pod.Volumes.Single(v => v.Name == m.Name).PersistentVolumeClaim?.ClaimName == claim.Metadata.Name);
        var secretMount = Assert.Single(container.VolumeMounts, m => pod.Volumes.Single(v => v.Name == m.Name).Secret?.SecretName == secret.Metadata.Name);
        Assert.True(secretMount.ReadOnlyProperty);
        Assert.Equal($"{secretMount.MountPath}/secret", container.Args[container.Args.IndexOf("--Assistant:SecretFile") + 1]);
        var service = Api.Get<V1Service>("services", Namespace, name)!;
        Assert.Equal(deployment.Spec.Selector.MatchLabels, service.Spec.Selector);
        Assert.Equal(user.UserId.ToString("N"), deployment.Spec.Selector.MatchLabels[KubernetesAssistant.UserLabel]);
        Assert.All(new V1ObjectMeta[] { claim.Metadata, secret.Metadata, deployment.Metadata, service.Metadata, deployment.Spec.Template.Metadata },
            metadata => Assert.Equal(user.UserId.ToString("N"), metadata.Labels[KubernetesAssistant.UserLabel]));

        // Running once its pod is Ready (the kubelet ran the program, which read the secret from its file).
        await RunningAsync(user);
        output.WriteLine($"start → running (LocalKubernetes, the program run by LocalKubelet): {clock.ElapsedMilliseconds} ms");
        var events = await ChatAsync(user, """Note this. [mock:call write_file {"path":"notes/todo.md","content":"buy milk"}]""");
        Assert.Contains(events, e => e.Name == "artifact" && e.Data.GetProperty("path").GetString() == "notes/todo.md");
        Assert.Equal("buy milk", await File.ReadAllTextAsync(Path.Combine(cluster.Kubelet.VolumeFolder(Namespace, claim.Metadata.Name), "notes", "todo.md"), Cancel));

        // Stop: the Deployment, its pod, the Secret and the Service go; the workspace stays.
        using var stop = await user.Client.PostAsync("/api/assistant/stop", null, Cancel);
        Assert.Equal("stopped", (await stop.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("status").GetString());
        Assert.Equal(new[] { $"persistentvolumeclaims/{name}-workspace" }, ObjectsOf(user));
        using var stopAgain = await user.Client.PostAsync("/api/assistant/stop", null, Cancel);
        Assert.Equal(HttpStatusCode.OK, stopAgain.StatusCode);

        // Started again: the same claim, a new secret, and the file is there.
        using var restart = await user.Client.PostAsync("/api/assistant/start", null, Cancel);
        Assert.Equal(HttpStatusCode.Accepted, restart.StatusCode);
        await RunningAsync(user);
        Assert.Equal(claim.Metadata.Uid, Api.Get<V1PersistentVolumeClaim>("persistentvolumeclaims", Namespace, $"{name}-workspace")!.Metadata.Uid);
        var secondSecret = Encoding.UTF8.GetString(Api.Get<V1Secret>("secrets", Namespace, $"{name}-secret")!.Data["secret"]);
        Assert.NotEqual(firstSecret, secondSecret);
        var read = await ChatAsync(user, """What did I note? [mock:call read_file {"path":"notes/todo.md"}]""");
        Assert.Contains("buy milk", string.Concat(read.Where(e => e.Name == "token").Select(e => e.Data.GetProperty("text").GetString())));

        // Neither start's secret is in Chat's log (records and exceptions, its assistants' categories at Trace).
        var logs = cluster.ChatLogs.GetSnapshot();
        Assert.Contains(logs, r => r.Message.Contains(name));
        Assert.DoesNotContain(logs, r => $"{r.Message} {r.Exception}".Contains(firstSecret) || $"{r.Message} {r.Exception}".Contains(secondSecret));
        using var stopAtEnd = await user.Client.PostAsync("/api/assistant/stop", null, Cancel);
    }

    [Fact]
    public async Task A_pod_that_runs_out_of_memory_or_crashes_reads_as_a_crash_with_its_reason_and_three_in_a_row_fail_it()
    {
        var user = await ChatSystem.UserAsync(System);
        using var start = await user.Client.PostAsync("/api/assistant/start", null, Cancel);
        await RunningAsync(user);

        Api.Crash(PodOf(user), "OOMKilled", 137);
        var restarting = await Eventually.UntilAsync(() => StatusAsync(user), s => s.GetProperty("status").GetString() == "starting");
        Assert.Contains("ran out of memory (its limit is 192Mi) and was killed (OOMKilled)", restarting.GetProperty("reason").GetString());
        await RunningAsync(user);

        // Its program ends (killed): the kubelet reports the container's exit.
        Process.GetProcessById(cluster.Kubelet.ProcessId(PodOf(user))!.Value).Kill();
        restarting = await Eventually.UntilAsync(() => StatusAsync(user), s => s.GetProperty("status").GetString() == "starting");
        Assert.Contains("exited with code 137", restarting.GetProperty("reason").GetString());
        await RunningAsync(user);

        Api.Crash(PodOf(user), "Error", 1);
        var failed = await Eventually.UntilAsync(() => StatusAsync(user), s => s.GetProperty("status").GetString() == "failed");
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Contains("crashed 3 times", failed.GetProperty("reason").GetString());
        Assert.Contains("keeps crashing (CrashLoopBackOff); the last time: its container exited with code 1 (Error)", failed.GetProperty("reason").GetString());
        // A failed assistant costs nothing: only its workspace is left.
        Assert.Equal(new[] { $"persistentvolumeclaims/assistant-{user.UserId:N}-workspace" }, ObjectsOf(user));
    }

    [Fact]
    public async Task While_the_API_server_cannot_be_reached_a_chat_goes_without_tools_and_the_assistant_stays_as_it_was()
    {
        var user = await ChatSystem.UserAsync(System);
        using var start = await user.Client.PostAsync("/api/assistant/start", null, Cancel);
        await RunningAsync(user);
        var before = Api.Requests.Count;
        Api.Unavailable = true;
        try
        {
            var events = await ChatAsync(user, "Hello there");

            Assert.DoesNotContain(events, e => e.Name is "activity" or "error");
            // The supervisor tried too (it looks every 100 ms), and changed nothing.
            await Eventually.UntilAsync(() => Task.FromResult(Api.Requests.Count - before), count => count >= 5);
            Assert.Equal("running", (await StatusAsync(user)).GetProperty("status").GetString());
        }
        finally
        {
            Api.Unavailable = false;
        }
        var tools = await ChatAsync(user, """[mock:call list_files {"path":""}]""");
        Assert.Contains(tools, e => e.Name == "activity" && e.Data.GetProperty("type").GetString() == "tool_result");
        using var stop = await user.Client.PostAsync("/api/assistant/stop", null, Cancel);
    }

    [Fact]
    public async Task An_image_that_cannot_be_pulled_reads_as_exited_with_the_image_and_the_reason()
    {
        var userId = Guid.NewGuid();
        cluster.Kubelet.Paused = true;
        try
        {
            await cluster.Runtime.StartAsync(new AssistantLaunch(userId, new string('s', 44)), Cancel);
            Assert.Equal(RuntimeState.Starting, (await cluster.Runtime.GetAsync(userId, Cancel)).State);

            Api.FailToPull(Assert.Single(Api.List<V1Pod>("pods", Namespace, $"{KubernetesAssistant.UserLabel}={userId:N}")));
            var status = await cluster.Runtime.GetAsync(userId, Cancel);

            Assert.Equal(RuntimeState.Exited, status.State);
            Assert.Equal($"Its image {KubernetesAssistantSystem.Image} could not be pulled (ImagePullBackOff): Back-off pulling image \"{KubernetesAssistantSystem.Image}\"", status.Reason);
        }
        finally
        {
            cluster.Kubelet.Paused = false;
            await cluster.Runtime.RemoveAsync(userId, Cancel);
        }
        Assert.DoesNotContain(Api.Names(Namespace), n => n.Contains(userId.ToString("N")));
    }

    [Fact]
    public async Task A_start_with_the_same_secret_changes_nothing_and_one_with_a_new_secret_replaces_the_secret_and_the_pod()
    {
        var userId = Guid.NewGuid();
        var name = $"assistant-{userId:N}";
        cluster.Kubelet.Paused = true;
        try
        {
            await cluster.Runtime.StartAsync(new AssistantLaunch(userId, new string('a', 44)), Cancel);
            var firstPod = Assert.Single(Api.List<V1Pod>("pods", Namespace, $"{KubernetesAssistant.UserLabel}={userId:N}"));
            var before = Api.Requests.Count;

            await cluster.Runtime.StartAsync(new AssistantLaunch(userId, new string('a', 44)), Cancel);
            Assert.Equal(new[] { $"GET /apis/apps/v1/namespaces/{Namespace}/deployments/{name}" }, Api.Requests.Skip(before).Where(r => r.Contains(name)));

            before = Api.Requests.Count;
            await cluster.Runtime.StartAsync(new AssistantLaunch(userId, new string('b', 44)), Cancel);
            var requests = Api.Requests.Skip(before).Where(r => r.Contains(name)).ToList();
            Assert.Contains($"PUT /api/v1/namespaces/{Namespace}/secrets/{name}-secret", requests);
            Assert.Contains($"PUT /apis/apps/v1/namespaces/{Namespace}/deployments/{name}", requests);
            Assert.DoesNotContain(requests, r => r.StartsWith("PUT") && (r.Contains("persistentvolumeclaims") || r.Contains("services")));
            Assert.Equal(new string('b', 44), Encoding.UTF8.GetString(Api.Get<V1Secret>("secrets", Namespace, $"{name}-secret")!.Data["secret"]));
            var pod = Assert.Single(Api.List<V1Pod>("pods", Namespace, $"{KubernetesAssistant.UserLabel}={userId:N}"));
            Assert.NotEqual(firstPod.Metadata.Name, pod.Metadata.Name);
            Assert.Equal(KubernetesAssistant.Fingerprint(new string('b', 44)), pod.Metadata.Annotations[KubernetesAssistant.SecretAnnotation]);
        }
        finally
        {
            cluster.Kubelet.Paused = false;
            await cluster.Runtime.RemoveAsync(userId, Cancel);
        }
        // Removing what is already gone is fine.
        await cluster.Runtime.RemoveAsync(userId, Cancel);
        Assert.Equal(RuntimeStatus.Stopped, await cluster.Runtime.GetAsync(userId, Cancel));
    }

    [Fact]
    public async Task Deleting_the_account_removes_every_object_of_its_assistant_and_its_workspace()
    {
        var owner = await ChatSystem.UserAsync(System);
        var member = await System.InviteAsync(owner, "member");
        using var start = await member.Client.PostAsync("/api/assistant/start", null, Cancel);
        await RunningAsync(member);
        await ChatAsync(member, """[mock:call write_file {"path":"a.txt","content":"mine"}]""");
        var volume = cluster.Kubelet.VolumeFolder(Namespace, $"assistant-{member.UserId:N}-workspace");
        Assert.True(File.Exists(Path.Combine(volume, "a.txt")));

        using var remove = await owner.Client.DeleteAsync($"/api/users/{member.UserId}", Cancel);
        Assert.True(remove.IsSuccessStatusCode, await remove.Content.ReadAsStringAsync(Cancel));

        var left = await Eventually.UntilAsync(() => Task.FromResult(ObjectsOf(member)), objects => objects.Count == 0);
        Assert.Empty(left);
        Assert.False(Directory.Exists(volume));
    }

    [Fact]
    public void A_Kubernetes_runtime_without_an_image_or_with_a_size_Kubernetes_cannot_read_is_refused_at_start_by_name()
    {
        var options = new AssistantOptions
        {
            Runtime = AssistantRuntimeKind.Kubernetes,
            Kubernetes = new KubernetesRuntimeOptions { Host = Api.Address.ToString(), Namespace = "Assistants", StorageSize = "lots", MemoryLimit = "192MB" },
        };

        var result = new AssistantOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Chat:Assistants:Kubernetes:Image", result.FailureMessage);
        Assert.Contains("Chat:Assistants:Kubernetes:Namespace", result.FailureMessage);
        Assert.Contains("Chat:Assistants:Kubernetes:StorageSize", result.FailureMessage);
        Assert.Contains("Chat:Assistants:Kubernetes:MemoryLimit", result.FailureMessage);
        Assert.DoesNotContain("Directory", result.FailureMessage); // the local runtime's folder is not needed
        Assert.True(new AssistantOptionsValidator().Validate(null, options with
        {
            Kubernetes = options.Kubernetes with { Image = KubernetesAssistantSystem.Image, Namespace = "assistants", StorageSize = "1Gi", MemoryLimit = "192Mi" },
        }).Succeeded);
    }

    // deploy/assistants/access.yaml is Chat's Role in the assistants' namespace: every request of a start, a restart with
    // a new secret, a look, a stop and a removal must be one it allows, or Chat would be refused in a cluster.
    [Fact]
    public async Task Every_request_of_the_runtime_is_one_the_Role_deploy_gives_Chat_allows()
    {
        var userId = Guid.NewGuid();
        var before = Api.Requests.Count;

        await cluster.Runtime.StartAsync(new AssistantLaunch(userId, new string('a', 44)), Cancel);
        await Eventually.UntilAsync(() => cluster.Runtime.GetAsync(userId, Cancel), s => s.State == RuntimeState.Running, TimeSpan.FromSeconds(30));
        await cluster.Runtime.StartAsync(new AssistantLaunch(userId, new string('b', 44)), Cancel);
        await cluster.Runtime.StopAsync(userId, Cancel);
        await cluster.Runtime.StartAsync(new AssistantLaunch(userId, new string('c', 44)), Cancel);
        await cluster.Runtime.RemoveAsync(userId, Cancel);

        var role = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(Path.Combine(Repository(), "deploy", "assistants", "access.yaml"), Cancel)).OfType<V1Role>().Single();
        // Those of this test, and whatever else Chat asked meanwhile (a create names its object in its body only).
        var requests = Api.Requests.Skip(before).Select(Access).Distinct().ToList();
        Assert.Contains(("apps", "deployments", "create"), requests);
        Assert.Contains(("", "persistentvolumeclaims", "delete"), requests);
        Assert.Contains(("", "pods", "list"), requests);
        Assert.All(requests, request => Assert.True(
            role.Rules.Any(r => r.ApiGroups.Contains(request.Group) && r.Resources.Contains(request.Resource) && r.Verbs.Contains(request.Verb)),
            $"The Role does not allow {request.Verb} {request.Resource} ({request.Group})"));
    }

    // "GET /apis/apps/v1/namespaces/ns/deployments/name" → (apps, deployments, get); a collection's GET is a list.
    private static (string Group, string Resource, string Verb) Access(string request)
    {
        var (method, path) = (request[..request.IndexOf(' ')], request[(request.IndexOf(' ') + 1)..].Split('?')[0].Split('/', StringSplitOptions.RemoveEmptyEntries));
        var (group, rest) = path[0] == "api" ? ("", path[2..]) : (path[1], path[3..]);
        Assert.Equal(["namespaces", Namespace], rest[..2]);
        var item = rest.Length > 3;
        var verb = (method, item) switch
        {
            ("GET", true) => "get",
            ("GET", false) => "list",
            ("POST", _) => "create",
            ("PUT", _) => "update",
            ("PATCH", _) => "patch",
            ("DELETE", _) => "delete",
            _ => throw new InvalidOperationException(request),
        };
        return (group, rest[2], verb);
    }

    private static string Repository()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(folder!.FullName, "Gateway.sln")))
        {
            folder = folder.Parent;
        }
        return folder.FullName;
    }

    private IReadOnlyList<string> ObjectsOf(TestUser user) =>
        [.. Api.Names(Namespace).Where(n => n.Contains(user.UserId.ToString("N")))];

    private V1Pod PodOf(TestUser user) =>
        Assert.Single(Api.List<V1Pod>("pods", Namespace, $"{KubernetesAssistant.UserLabel}={user.UserId:N}"));
}
