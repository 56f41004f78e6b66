using System.Text.RegularExpressions;
using k8s.Models;

namespace Gateway.Chat.Assistants;

// Where assistants run (Chat:Assistants:Runtime).
public enum AssistantRuntimeKind
{
    Local, // a process of this Chat per assistant (LocalProcessRuntime)
    Kubernetes, // a Deployment, a volume, a Secret and a Service per assistant in a cluster (KubernetesRuntime)
}

// How Chat reaches a running assistant's tool API in a cluster.
public enum AssistantEndpointKind
{
    Service, // its Service's cluster name, http://assistant-<user id>.<namespace>.svc:<port>/
    PodIP, // its pod's address, http://<pod IP>:<port>/ (no cluster DNS needed: a Chat outside the cluster network's DNS, tests)
}

// The Kubernetes runtime ("Chat:Assistants:Kubernetes"); used only when Runtime is Kubernetes.
public sealed partial record KubernetesRuntimeOptions
{
    // The namespace every assistant's objects go in (Chat's ServiceAccount may create them there and nowhere else).
    public string Namespace { get; init; } = "gateway-assistants";

    // The assistant program's image (workloads/Assistant, ContainerRepository gateway/assistant), with its registry and tag.
    public string Image { get; init; } = "";
    public string ImagePullPolicy { get; init; } = "IfNotPresent";

    // The workspace's PersistentVolumeClaim: its size, and its StorageClass (empty: the cluster's default).
    public string StorageSize { get; init; } = "1Gi";
    public string StorageClass { get; init; } = "";

    // One assistant's container. The idle program measured ≈61 MiB RSS (services/Chat/README.md, "Measured").
    public string CpuRequest { get; init; } = "50m";
    public string CpuLimit { get; init; } = "500m";
    public string MemoryRequest { get; init; } = "96Mi";
    public string MemoryLimit { get; init; } = "192Mi";

    // The port the program listens on in its pod (the .NET images' 8080), and how Chat reaches it.
    public int Port { get; init; } = 8080;
    public AssistantEndpointKind Endpoint { get; init; } = AssistantEndpointKind.Service;

    // How Chat reaches the API server: Host (a URL without credentials: `kubectl proxy`, tests), else KubeConfig (a file,
    // with Context, empty for its current one), else the in-cluster ServiceAccount (Chat running in the cluster).
    public string Host { get; init; } = "";
    public string KubeConfig { get; init; } = "";
    public string Context { get; init; } = "";

    // How long one request to the API server may take (a chat turn with the assistant asks it where the pod is).
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    // How long a stop waits for the pod to be gone (its grace period is 10 s).
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public IEnumerable<string> Problems()
    {
        const string Section = $"{AssistantOptions.Section}:Kubernetes";
        if (!DnsLabel().IsMatch(Namespace))
        {
            yield return $"{Section}:Namespace must be a Kubernetes namespace name (lower-case letters, digits and '-'), not '{Namespace}'.";
        }
        if (string.IsNullOrWhiteSpace(Image))
        {
            yield return $"{Section}:Image must name the assistant program's image (gateway/assistant with your registry and tag).";
        }
        foreach (var (name, value) in new[] { ("StorageSize", StorageSize), ("CpuRequest", CpuRequest), ("CpuLimit", CpuLimit), ("MemoryRequest", MemoryRequest), ("MemoryLimit", MemoryLimit) })
        {
            if (!IsQuantity(value))
            {
                yield return $"{Section}:{name} must be a Kubernetes quantity (e.g. 1Gi, 500m), not '{value}'.";
            }
        }
        if (Port is < 1 or > 65535)
        {
            yield return $"{Section}:Port must be a TCP port.";
        }
        if (Host is { Length: > 0 } && !Uri.TryCreate(Host, UriKind.Absolute, out _))
        {
            yield return $"{Section}:Host must be the API server's URL.";
        }
        else if (Host is "" && KubeConfig is { Length: > 0 } && !File.Exists(KubeConfig))
        {
            yield return $"{Section}:KubeConfig names no file ({KubeConfig}).";
        }
        else if (Host is "" && KubeConfig is "" && !k8s.KubernetesClientConfiguration.IsInCluster())
        {
            yield return $"{Section}: Chat is not in a cluster; set Host (the API server's URL) or KubeConfig (a kubeconfig file).";
        }
    }

    private static bool IsQuantity(string value)
    {
        try
        {
            return value is { Length: > 0 } && new ResourceQuantity(value).ToDecimal() > 0;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
            return false;
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}
