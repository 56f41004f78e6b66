using System.Diagnostics;
using Gateway.Kubernetes;
using k8s;
using k8s.Models;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Gateway.AppHost.Tests;

/// <summary>
/// deploy/ against the AppHost (generated from its published manifest, so it cannot drift) and against Kubernetes'
/// object models (every document read strictly, then the references between objects checked). No cluster is needed.
/// </summary>
public sealed class KubernetesManifestTests : IDisposable
{
    private static readonly string Deploy = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../deploy"));
    private static readonly string[] Overlays = ["production", "trial"];
    private readonly string _root = Directory.CreateTempSubdirectory("gateway-manifest-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Deploy_holds_exactly_what_the_AppHost_publishes()
    {
        var manifest = await AspireManifest.PublishAsync(_root, Ct);

        var generated = DeployManifests.Generate(manifest);

        var stale = generated.Where(f => !File.Exists(Path.Combine(Deploy, f.Key)) || File.ReadAllText(Path.Combine(Deploy, f.Key)) != f.Value).Select(f => f.Key).ToList();
        var extra = Directory.GetFiles(Path.Combine(Deploy, "base")).Select(f => $"base/{Path.GetFileName(f)}").Where(f => !generated.ContainsKey(f)).ToList();
        Assert.True(stale.Count == 0 && extra.Count == 0,
            $"deploy/ is not what the AppHost publishes (differs: {string.Join(", ", stale)}; not generated: {string.Join(", ", extra)}). Run deploy/generate.sh and commit the result.");
    }

    [Fact]
    public void A_value_deploy_cannot_express_stops_the_generator()
    {
        // A service given the Postgres server's host alone: in production there is only a connection string to give.
        var manifest = Path.Combine(_root, "manifest.json");
        File.WriteAllText(manifest, """
            {"resources": {
              "postgres": {"type": "container.v0", "image": "postgres", "connectionString": "Host={postgres.bindings.tcp.host}", "bindings": {"tcp": {"targetPort": 5432}}},
              "billing": {"type": "project.v0", "path": "billing.csproj", "env": {"Billing__DatabaseHost": "{postgres.bindings.tcp.host}"}, "bindings": {"http": {}}}
            }}
            """);
        File.WriteAllText(Path.Combine(_root, "billing.csproj"), "<Project><PropertyGroup><ContainerRepository>gateway/billing</ContainerRepository></PropertyGroup></Project>");

        var error = Assert.Throws<InvalidOperationException>(() => DeployManifests.Generate(manifest));

        Assert.Contains("{postgres.bindings.tcp.host} in billing's Billing__DatabaseHost", error.Message);
    }

    [Fact]
    public void Reading_strictly_refuses_a_field_Kubernetes_does_not_have()
    {
        const string misspelt = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: edge\nspec:\n  replica: 2\n";

        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(misspelt, strict: true));
        Assert.Single(KubernetesYaml.LoadAllFromString(misspelt.Replace("replica:", "replicas:"), strict: true));
    }

    [Fact]
    public void Every_overlay_is_complete_and_its_objects_refer_only_to_what_it_holds()
    {
        var problems = new List<string>();
        foreach (var overlay in Overlays)
        {
            var kustomization = Kustomization.Read(Path.Combine(Deploy, overlay));
            var objects = kustomization.Resources.SelectMany(r => Objects(Path.Combine(Deploy, overlay, r))).ToList();
            var secrets = kustomization.SecretGenerator.ToDictionary(s => s.Name, s => SecretKeys(Path.Combine(Deploy, overlay), s, problems));
            foreach (var patch in kustomization.Patches)
            {
                CheckPatch(overlay, Path.Combine(Deploy, overlay, patch.Path), objects, problems);
            }
            Check(overlay, objects, secrets, problems);
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Each_overlay_s_Chat_may_manage_assistants_in_their_namespace_and_nowhere_else()
    {
        var assistants = Kustomization.Read(Path.Combine(Deploy, "assistants"));
        var objects = Objects(Path.Combine(Deploy, "assistants")).ToList();

        Assert.Equal(DeployManifests.AssistantsNamespace, assistants.Namespace);
        Assert.Contains(objects.OfType<V1Namespace>(), n => n.Metadata.Name == DeployManifests.AssistantsNamespace);
        Assert.DoesNotContain(objects, o => o is V1ClusterRole or V1ClusterRoleBinding);
        var role = Assert.Single(objects.OfType<V1Role>());
        var binding = Assert.Single(objects.OfType<V1RoleBinding>());
        Assert.Equal(("Role", role.Metadata.Name), (binding.RoleRef.Kind, binding.RoleRef.Name));
        var policy = Assert.Single(objects.OfType<V1NetworkPolicy>());
        Assert.Equal("assistant", policy.Spec.PodSelector.MatchLabels["app.kubernetes.io/name"]);
        var from = Assert.Single(Assert.Single(policy.Spec.Ingress).FromProperty);
        foreach (var overlay in Overlays)
        {
            var kustomization = Kustomization.Read(Path.Combine(Deploy, overlay));
            var overlayObjects = kustomization.Resources.SelectMany(r => Objects(Path.Combine(Deploy, overlay, r))).ToList();
            var chat = overlayObjects.OfType<V1Deployment>().Single(d => d.Metadata.Name == "chat").Spec.Template;
            var account = chat.Spec.ServiceAccountName;
            Assert.Contains(overlayObjects.OfType<V1ServiceAccount>(), a => a.Metadata.Name == account);
            Assert.Contains(binding.Subjects, s => s.Kind == "ServiceAccount" && s.Name == account && s.NamespaceProperty == kustomization.Namespace);
            Assert.Contains(kustomization.Namespace, Assert.Single(from.NamespaceSelector.MatchExpressions).Values);
            Assert.True(Selects(from.PodSelector, chat), $"{overlay}'s Chat pods may not reach the assistants");
        }
    }

    private static void Check(string overlay, List<object> objects, Dictionary<string, HashSet<string>> secrets, List<string> problems)
    {
        void Expect(bool condition, string problem)
        {
            if (!condition) problems.Add($"{overlay}: {problem}");
        }

        var deployments = objects.OfType<V1Deployment>().ToList();
        var statefulSets = objects.OfType<V1StatefulSet>().ToList();
        var workloads = deployments.Select(d => (d.Metadata.Name, d.Spec.Selector, d.Spec.Template))
            .Concat(statefulSets.Select(s => (s.Metadata.Name, s.Spec.Selector, s.Spec.Template))).ToList();
        var services = objects.OfType<V1Service>().ToDictionary(s => s.Metadata.Name);
        Expect(objects.All(o => o is IKubernetesObject<V1ObjectMeta> { Metadata.Name.Length: > 0 }), "an object without a name");
        Expect(deployments.Select(d => d.Metadata.Name).Order().SequenceEqual(["billing", "chat", "devices", "edge", "identity", "keys", "mockllm"]),
            $"Deployments are {string.Join(", ", deployments.Select(d => d.Metadata.Name))}");

        foreach (var (name, selector, template) in workloads)
        {
            Expect(selector.MatchLabels.All(l => template.Metadata.Labels.TryGetValue(l.Key, out var v) && v == l.Value), $"{name}'s selector does not select its own pods");
            foreach (var container in template.Spec.Containers)
            {
                Expect(!string.IsNullOrEmpty(container.Image), $"{name} has no image");
                Expect(container.Resources?.Requests?.Keys.Order().SequenceEqual(["cpu", "memory"]) == true
                    && container.Resources.Limits?.Keys.Order().SequenceEqual(["cpu", "memory"]) == true, $"{name} lacks CPU or memory requests and limits");
                foreach (var env in container.Env ?? [])
                {
                    var key = env.ValueFrom?.SecretKeyRef;
                    Expect(key is null || (secrets.TryGetValue(key.Name, out var keys) && keys.Contains(key.Key)), $"{name}'s {env.Name} takes {key?.Name}/{key?.Key}, which the overlay's secrets do not have");
                    if (env.Name.StartsWith("services__", StringComparison.Ordinal))
                    {
                        var url = new Uri(env.Value);
                        Expect(services.TryGetValue(url.Host, out var service) && service.Spec.Ports.Any(p => p.Port == url.Port), $"{name}'s {env.Name} is {url}, which no Service answers");
                    }
                }
            }
        }
        foreach (var deployment in deployments)
        {
            var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
            var ports = container.Ports.Select(p => p.Name).ToHashSet();
            Expect(container.LivenessProbe?.HttpGet is { Path: "/health/liveness" } l && ports.Contains(l.Port.Value), $"{deployment.Metadata.Name}'s liveness probe");
            Expect(container.ReadinessProbe?.HttpGet is { Path: "/health/readiness" } r && ports.Contains(r.Port.Value), $"{deployment.Metadata.Name}'s readiness probe");
            Expect(services.ContainsKey(deployment.Metadata.Name), $"{deployment.Metadata.Name} has no Service");
            Expect(objects.OfType<V1PodDisruptionBudget>().Any(p => Selects(p.Spec.Selector, deployment.Spec.Template)), $"{deployment.Metadata.Name} has no PodDisruptionBudget");
        }
        foreach (var service in services.Values)
        {
            var pods = workloads.Where(w => Selects(new V1LabelSelector { MatchLabels = service.Spec.Selector }, w.Template)).ToList();
            Expect(pods.Count == 1, $"Service {service.Metadata.Name} selects {pods.Count} workloads");
            Expect(pods.Count == 0 || service.Spec.Ports.All(p => pods[0].Template.Spec.Containers.SelectMany(c => c.Ports).Any(c => c.Name == p.TargetPort.Value)),
                $"Service {service.Metadata.Name} targets a port its pods do not name");
        }
        var autoscaled = objects.OfType<V2HorizontalPodAutoscaler>().ToList();
        Expect(autoscaled.Select(h => h.Spec.ScaleTargetRef.Name).Order().SequenceEqual(["chat", "edge"]), "autoscalers are not the edge's and Chat's");
        Expect(autoscaled.All(h => deployments.Any(d => d.Metadata.Name == h.Spec.ScaleTargetRef.Name) && h.Spec.MinReplicas <= h.Spec.MaxReplicas), "an autoscaler targets nothing");
        Expect(overlay != "trial" || statefulSets.Select(s => s.Metadata.Name).Order().SequenceEqual(["postgres", "rabbitmq", "redis"]), "the trial lacks its servers");
    }

    // A strategic-merge patch: its object exists, and the containers it names are that object's.
    private static void CheckPatch(string overlay, string path, List<object> objects, List<string> problems)
    {
        foreach (var patch in Objects(path).OfType<V1Deployment>())
        {
            var target = objects.OfType<V1Deployment>().FirstOrDefault(d => d.Metadata.Name == patch.Metadata.Name);
            if (target is null || patch.Spec.Template.Spec.Containers.Any(c => target.Spec.Template.Spec.Containers.All(t => t.Name != c.Name)))
            {
                problems.Add($"{overlay}: {Path.GetFileName(path)} patches {patch.Metadata.Name}, which is not there (or not its containers)");
            }
        }
    }

    private static bool Selects(V1LabelSelector selector, V1PodTemplateSpec template) =>
        selector.MatchLabels.All(l => template.Metadata.Labels.TryGetValue(l.Key, out var v) && v == l.Value);

    // A file's objects, or a folder's by its kustomization.
    private static IEnumerable<object> Objects(string path) =>
        Directory.Exists(path)
            ? Kustomization.Read(path).Resources.SelectMany(r => Objects(Path.Combine(path, r)))
            : KubernetesYaml.LoadAllFromString(File.ReadAllText(path), strict: true);

    // The keys a generated secret will have: those of the committed example (or template) its git-ignored file is made from.
    private static HashSet<string> SecretKeys(string overlay, Kustomization.Secret secret, List<string> problems)
    {
        var keys = new HashSet<string>();
        foreach (var env in secret.Envs)
        {
            var source = new[] { ".example", ".template" }.Select(s => Path.Combine(overlay, env + s)).FirstOrDefault(File.Exists);
            if (source is null)
            {
                problems.Add($"{Path.GetFileName(overlay)}: {env} has no {env}.example or .template saying what it holds");
                continue;
            }
            keys.UnionWith(File.ReadLines(source).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l[..l.IndexOf('=')]));
        }
        return keys;
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // The fields of kustomization.yaml deploy/ uses; any other is refused, as a misspelt one would be.
    private sealed class Kustomization
    {
        public string ApiVersion { get; set; } = "";
        public string Kind { get; set; } = "";
        public string? Namespace { get; set; }
        public List<string> Resources { get; set; } = [];
        public List<Patch> Patches { get; set; } = [];
        public List<Secret> SecretGenerator { get; set; } = [];
        public List<Image> Images { get; set; } = [];
        public List<LabelSet> Labels { get; set; } = [];

        public static Kustomization Read(string folder)
        {
            var kustomization = new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).Build()
                .Deserialize<Kustomization>(File.ReadAllText(Path.Combine(folder, "kustomization.yaml")));
            Assert.Equal(("kustomize.config.k8s.io/v1beta1", "Kustomization"), (kustomization.ApiVersion, kustomization.Kind));
            foreach (var path in kustomization.Resources.Concat(kustomization.Patches.Select(p => p.Path)))
            {
                Assert.True(File.Exists(Path.Combine(folder, path)) || File.Exists(Path.Combine(folder, path, "kustomization.yaml")), $"{folder}/kustomization.yaml names {path}, which is not there");
            }
            return kustomization;
        }

        public sealed class Patch { public string Path { get; set; } = ""; }
        public sealed class Secret { public string Name { get; set; } = ""; public List<string> Envs { get; set; } = []; }
        public sealed class Image { public string Name { get; set; } = ""; public string? NewName { get; set; } public string? NewTag { get; set; } }
        public sealed class LabelSet { public Dictionary<string, string> Pairs { get; set; } = []; }
    }
}

/// <summary>The AppHost's published Aspire manifest (`--publisher manifest`), as a deployer sees it.</summary>
internal static class AspireManifest
{
    public static async Task<string> PublishAsync(string folder, CancellationToken ct)
    {
        var manifest = Path.Combine(folder, "manifest.json");
        var appHost = Path.Combine(AppContext.BaseDirectory, "Gateway.AppHost.dll");
        using var publish = Process.Start(new ProcessStartInfo("dotnet", [appHost, "--publisher", "manifest", "--output-path", manifest])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = await publish.StandardOutput.ReadToEndAsync(ct) + await publish.StandardError.ReadToEndAsync(ct);
        await publish.WaitForExitAsync(ct);
        Assert.True(publish.ExitCode == 0, output);
        return manifest;
    }
}
