using System.Security.Cryptography;
using System.Text;
using k8s.Models;

namespace Gateway.Chat.Assistants;

// One user's assistant in a cluster, as objects: what KubernetesRuntime asks for (a PersistentVolumeClaim for the
// workspace, a Secret with this start's secret, a Deployment of one pod, a Service), and what it makes of what it
// observes (RuntimeStatus). Names come from the user id, so nothing needs to be remembered to find them again.
public sealed class KubernetesAssistant(Guid userId, KubernetesRuntimeOptions options, AssistantOptions limits)
{
    public const string Container = "assistant";
    public const string UserLabel = "gateway/user-id";
    // On the pod template: a changed secret is a changed template, so a new start rolls the pod (the program reads its
    // secret once). Its SHA-256, not the secret: a 32-byte random secret cannot be found from it.
    public const string SecretAnnotation = "gateway/secret-sha256";

    private const string WorkspacePath = "/workspace";
    private const string SecretFolder = "/run/secrets/assistant";
    private const string SecretKey = "secret";
    private const long AppUser = 1654; // the .NET images' non-root `app` user and group

    // The waiting reasons of a container that will not come up by itself.
    private static readonly HashSet<string> Stuck =
    [
        "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull", "InvalidImageName",
        "CreateContainerConfigError", "CreateContainerError", "RunContainerError",
    ];

    public string Name { get; } = $"assistant-{userId:N}";
    public string WorkspaceClaim => $"{Name}-workspace";
    public string SecretName => $"{Name}-secret";

    // The pods, the Service's selector and the list's label selector.
    public Dictionary<string, string> Selector => new() { ["app.kubernetes.io/name"] = "assistant", [UserLabel] = userId.ToString("N") };
    public string LabelSelector => string.Join(',', Selector.Select(l => $"{l.Key}={l.Value}"));

    private Dictionary<string, string> Labels => new(Selector)
    {
        ["app.kubernetes.io/part-of"] = "gateway",
        ["app.kubernetes.io/managed-by"] = "gateway-chat",
    };

    public static string? FingerprintOf(V1ObjectMeta? metadata) =>
        metadata?.Annotations is { } annotations && annotations.TryGetValue(SecretAnnotation, out var fingerprint) ? fingerprint : null;

    public static string Fingerprint(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public V1PersistentVolumeClaim Workspace() => new()
    {
        ApiVersion = "v1", Kind = "PersistentVolumeClaim", Metadata = Metadata(WorkspaceClaim),
        Spec = new V1PersistentVolumeClaimSpec
        {
            AccessModes = ["ReadWriteOnce"],
            StorageClassName = options.StorageClass is { Length: > 0 } storageClass ? storageClass : null,
            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(options.StorageSize) } },
        },
    };

    public V1Secret Secret(string secret) => new()
    {
        ApiVersion = "v1", Kind = "Secret", Metadata = Metadata(SecretName), Type = "Opaque",
        Data = new Dictionary<string, byte[]> { [SecretKey] = Encoding.UTF8.GetBytes(secret) },
    };

    public V1Service Service() => new()
    {
        ApiVersion = "v1", Kind = "Service", Metadata = Metadata(Name),
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            Selector = Selector,
            Ports = [new V1ServicePort { Name = "http", Port = options.Port, TargetPort = "http" }],
        },
    };

    public V1Deployment Deployment(string fingerprint)
    {
        var container = new V1Container
        {
            Name = Container,
            Image = options.Image,
            ImagePullPolicy = options.ImagePullPolicy,
            // The image's entrypoint is the program; these are its settings (it reads nothing else but its environment).
            Args =
            [
                "--urls", $"http://+:{options.Port}",
                "--Assistant:Workspace", WorkspacePath,
                "--Assistant:SecretFile", $"{SecretFolder}/{SecretKey}",
                "--Assistant:MaxFileBytes", limits.MaxFileBytes.ToString(),
                "--Assistant:MaxWorkspaceBytes", limits.MaxWorkspaceBytes.ToString(),
            ],
            Env =
            [
                // Not the workspace: what the runtime may write under HOME is not the user's file.
                new V1EnvVar { Name = "HOME", Value = "/tmp" },
                // One heap and no background GC thread: a small program's footprint (as the local runtime's).
                new V1EnvVar { Name = "DOTNET_gcServer", Value = "0" },
                new V1EnvVar { Name = "DOTNET_gcConcurrent", Value = "0" },
                new V1EnvVar { Name = "DOTNET_TieredPGO", Value = "0" },
                // No diagnostics pipe in /tmp: the root file system is read-only.
                new V1EnvVar { Name = "DOTNET_EnableDiagnostics", Value = "0" },
            ],
            Ports = [new V1ContainerPort { Name = "http", ContainerPort = options.Port }],
            ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/health", Port = "http" }, PeriodSeconds = 1, TimeoutSeconds = 2 },
            LivenessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/health", Port = "http" }, PeriodSeconds = 10, TimeoutSeconds = 3, FailureThreshold = 3 },
            Resources = new V1ResourceRequirements
            {
                Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(options.CpuRequest), ["memory"] = new(options.MemoryRequest) },
                Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(options.CpuLimit), ["memory"] = new(options.MemoryLimit) },
            },
            VolumeMounts =
            [
                new V1VolumeMount { Name = "workspace", MountPath = WorkspacePath },
                new V1VolumeMount { Name = "secret", MountPath = SecretFolder, ReadOnlyProperty = true },
                new V1VolumeMount { Name = "tmp", MountPath = "/tmp" },
            ],
            SecurityContext = new V1SecurityContext
            {
                AllowPrivilegeEscalation = false, RunAsNonRoot = true, ReadOnlyRootFilesystem = true,
                Capabilities = new V1Capabilities { Drop = ["ALL"] },
            },
        };
        return new V1Deployment
        {
            ApiVersion = "apps/v1", Kind = "Deployment", Metadata = Metadata(Name),
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,
                // The workspace is ReadWriteOnce: the old pod goes before the new one mounts it.
                Strategy = new V1DeploymentStrategy { Type = "Recreate" },
                Selector = new V1LabelSelector { MatchLabels = Selector },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = Labels, Annotations = new Dictionary<string, string> { [SecretAnnotation] = fingerprint } },
                    Spec = new V1PodSpec
                    {
                        Containers = [container],
                        // The assistant has no business with the cluster's API, nor with other Services' addresses.
                        AutomountServiceAccountToken = false,
                        EnableServiceLinks = false,
                        TerminationGracePeriodSeconds = 10,
                        // What the "restricted" Pod Security Standard asks (deploy/assistants' namespace enforces it).
                        SecurityContext = new V1PodSecurityContext
                        {
                            RunAsNonRoot = true, RunAsUser = AppUser, RunAsGroup = AppUser, FsGroup = AppUser,
                            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                        },
                        Volumes =
                        [
                            new V1Volume { Name = "workspace", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = WorkspaceClaim } },
                            // 0440: readable by its owner (root) and the app group (fsGroup) only.
                            new V1Volume { Name = "secret", Secret = new V1SecretVolumeSource { SecretName = SecretName, DefaultMode = 0b100_100_000 } },
                            new V1Volume { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = new ResourceQuantity("16Mi") } },
                        ],
                    },
                },
            },
        };
    }

    // What the Deployment's current pod says: Running only when it is Ready; a container that ended, restarted or cannot
    // start (crash loop, out of memory, an image that cannot be pulled, a missing secret) is Exited with why, for the
    // lifecycle's policy (restart with back-off, failed) rather than Kubernetes' own restarts.
    public RuntimeStatus Observe(V1Deployment deployment, IEnumerable<V1Pod> pods)
    {
        var fingerprint = FingerprintOf(deployment.Spec?.Template?.Metadata);
        // A pod of an earlier start (being replaced) is not this start's.
        var pod = pods
            .Where(p => p.Metadata?.DeletionTimestamp is null && FingerprintOf(p.Metadata) == fingerprint)
            .OrderByDescending(p => p.Metadata?.CreationTimestamp)
            .FirstOrDefault();
        if (pod?.Status is not { } status)
        {
            return new RuntimeStatus(RuntimeState.Starting);
        }
        var container = status.ContainerStatuses?.FirstOrDefault(c => c.Name == Container);
        if (status.Phase == "Failed")
        {
            return Exited($"Its pod failed{(status.Reason is { } reason ? $" ({reason})" : "")}{(status.Message is { } message ? $": {message}" : ".")}");
        }
        if (container?.State?.Waiting is { Reason: { } waiting } wait && Stuck.Contains(waiting))
        {
            return Exited(waiting switch
            {
                "CrashLoopBackOff" => $"It keeps crashing (CrashLoopBackOff); the last time: {Ended(container.LastState?.Terminated)}",
                "ImagePullBackOff" or "ErrImagePull" or "ErrImageNeverPull" or "InvalidImageName" =>
                    $"Its image {container.Image ?? options.Image} could not be pulled ({waiting}){Detail(wait.Message)}",
                _ => $"Its container could not be started ({waiting}){Detail(wait.Message)}",
            });
        }
        if (container?.State?.Terminated is { } terminated)
        {
            return Exited(Ended(terminated));
        }
        if (container?.RestartCount > 0)
        {
            return Exited($"{Ended(container.LastState?.Terminated)} (Kubernetes restarted it)");
        }
        var ready = container?.Ready == true && status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
        return (ready, options.Endpoint, status.PodIP) switch
        {
            (false, _, _) => new RuntimeStatus(RuntimeState.Starting),
            (true, AssistantEndpointKind.Service, _) => new RuntimeStatus(RuntimeState.Running, new Uri($"http://{Name}.{options.Namespace}.svc:{options.Port}/")),
            (true, AssistantEndpointKind.PodIP, { Length: > 0 } ip) => new RuntimeStatus(RuntimeState.Running, new UriBuilder("http", ip, options.Port).Uri),
            _ => new RuntimeStatus(RuntimeState.Starting),
        };
    }

    private string Ended(V1ContainerStateTerminated? terminated) => terminated switch
    {
        null => "its container ended.",
        { Reason: "OOMKilled" } => $"it ran out of memory (its limit is {options.MemoryLimit}) and was killed (OOMKilled).",
        _ => $"its container exited with code {terminated.ExitCode}{(terminated.Reason is { } reason ? $" ({reason})" : "")}{Detail(terminated.Message)}",
    };

    private static RuntimeStatus Exited(string reason) => new(RuntimeState.Exited, Reason: char.ToUpperInvariant(reason[0]) + reason[1..]);

    private static string Detail(string? message) => message is { Length: > 0 } ? $": {message.Trim()}" : ".";

    private V1ObjectMeta Metadata(string name) => new() { Name = name, NamespaceProperty = options.Namespace, Labels = Labels };
}
