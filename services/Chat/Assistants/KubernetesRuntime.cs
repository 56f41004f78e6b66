using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Options;

namespace Gateway.Chat.Assistants;

// A cluster: each user's assistant is a Deployment of one pod running the program's image, with its workspace on a
// PersistentVolumeClaim, this start's secret in a Secret mounted as a file, and a Service (KubernetesAssistant says
// what each holds). Stop deletes the Deployment, the Secret and the Service, so a stopped assistant is only its volume;
// the next start writes them anew from the current settings. Every call is idempotent against the API server (409 on
// create: read and replace; 404 on delete: done), which holds across Chat's replicas too, where a lock in this process
// could not. The secret goes to the API server in the Secret's body only, never into a log or an exception's text.
public sealed class KubernetesRuntime : IAssistantRuntime, IDisposable
{
    private static readonly TimeSpan PodsGoneCheck = TimeSpan.FromMilliseconds(250);

    private readonly IKubernetes _api;
    private readonly KubernetesRuntimeOptions _options;
    private readonly AssistantOptions _limits;
    private readonly ILogger<KubernetesRuntime> _logger;

    public KubernetesRuntime(IOptions<AssistantOptions> options, ILogger<KubernetesRuntime> logger)
    {
        _limits = options.Value;
        _options = options.Value.Kubernetes;
        _logger = logger;
        _api = new Kubernetes(Configuration(_options));
    }

    public string Namespace => _options.Namespace;

    public KubernetesAssistant Of(Guid userId) => new(userId, _options, _limits);

    public async Task StartAsync(AssistantLaunch launch, CancellationToken cancellationToken)
    {
        var assistant = Of(launch.UserId);
        var fingerprint = KubernetesAssistant.Fingerprint(launch.Secret);
        var current = await FindAsync(() => _api.AppsV1.ReadNamespacedDeploymentAsync(assistant.Name, Namespace, cancellationToken: cancellationToken));
        if (current is { Metadata.DeletionTimestamp: null }
            && KubernetesAssistant.FingerprintOf(current.Spec?.Template?.Metadata) == fingerprint)
        {
            return; // already asked to run with this secret
        }

        // The workspace is made once and kept as it is (a claim's size and class cannot simply change).
        await CreateUnlessExistsAsync(() => _api.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(assistant.Workspace(), Namespace, cancellationToken: cancellationToken));
        await CreateOrReplaceAsync(assistant.Secret(launch.Secret),
            secret => _api.CoreV1.CreateNamespacedSecretAsync(secret, Namespace, cancellationToken: cancellationToken),
            () => _api.CoreV1.ReadNamespacedSecretAsync(assistant.SecretName, Namespace, cancellationToken: cancellationToken),
            secret => _api.CoreV1.ReplaceNamespacedSecretAsync(secret, assistant.SecretName, Namespace, cancellationToken: cancellationToken));
        // Its spec is the same at every start, and a Service's allocated address may not be replaced.
        await CreateUnlessExistsAsync(() => _api.CoreV1.CreateNamespacedServiceAsync(assistant.Service(), Namespace, cancellationToken: cancellationToken));
        await CreateOrReplaceAsync(assistant.Deployment(fingerprint),
            deployment => _api.AppsV1.CreateNamespacedDeploymentAsync(deployment, Namespace, cancellationToken: cancellationToken),
            () => _api.AppsV1.ReadNamespacedDeploymentAsync(assistant.Name, Namespace, cancellationToken: cancellationToken),
            deployment => _api.AppsV1.ReplaceNamespacedDeploymentAsync(deployment, assistant.Name, Namespace, cancellationToken: cancellationToken));
        _logger.LogInformation("Asked the cluster to run the assistant of {UserId} (Deployment {Namespace}/{Name})", launch.UserId, Namespace, assistant.Name);
    }

    public async Task StopAsync(Guid userId, CancellationToken cancellationToken)
    {
        var assistant = Of(userId);
        await DeleteAsync(() => _api.AppsV1.DeleteNamespacedDeploymentAsync(assistant.Name, Namespace, propagationPolicy: "Background", cancellationToken: cancellationToken));
        await DeleteAsync(() => _api.CoreV1.DeleteNamespacedServiceAsync(assistant.Name, Namespace, cancellationToken: cancellationToken));
        await DeleteAsync(() => _api.CoreV1.DeleteNamespacedSecretAsync(assistant.SecretName, Namespace, cancellationToken: cancellationToken));
        // "Returns once it no longer runs": its pod is gone (it has 10 s to end), or StopTimeout has passed.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.StopTimeout);
        try
        {
            while ((await _api.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: assistant.LabelSelector, cancellationToken: timeout.Token)).Items.Count > 0)
            {
                await Task.Delay(PodsGoneCheck, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("The pod of the assistant of {UserId} was still there {Timeout} after its Deployment was deleted", userId, _options.StopTimeout);
        }
    }

    public async Task<RuntimeStatus> GetAsync(Guid userId, CancellationToken cancellationToken)
    {
        var assistant = Of(userId);
        var deployment = await FindAsync(() => _api.AppsV1.ReadNamespacedDeploymentAsync(assistant.Name, Namespace, cancellationToken: cancellationToken));
        if (deployment is null || deployment.Metadata.DeletionTimestamp is not null)
        {
            return RuntimeStatus.Stopped;
        }
        var pods = await _api.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: assistant.LabelSelector, cancellationToken: cancellationToken);
        return assistant.Observe(deployment, pods.Items);
    }

    public async Task RemoveAsync(Guid userId, CancellationToken cancellationToken)
    {
        await StopAsync(userId, cancellationToken);
        var assistant = Of(userId);
        await DeleteAsync(() => _api.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync(assistant.WorkspaceClaim, Namespace, cancellationToken: cancellationToken));
        _logger.LogInformation("Removed the assistant of {UserId} and its workspace from the cluster", userId);
    }

    public void Dispose() => _api.Dispose();

    private static KubernetesClientConfiguration Configuration(KubernetesRuntimeOptions options)
    {
        var configuration = options switch
        {
            { Host: { Length: > 0 } host } => new KubernetesClientConfiguration { Host = host },
            { KubeConfig: { Length: > 0 } file } => KubernetesClientConfiguration.BuildConfigFromConfigFile(file, options.Context is { Length: > 0 } context ? context : null),
            _ => KubernetesClientConfiguration.InClusterConfig(),
        };
        configuration.HttpClientTimeout = options.RequestTimeout; // the client's own default is 100 s
        return configuration;
    }

    private static async Task<T?> FindAsync<T>(Func<Task<T>> read) where T : class
    {
        try
        {
            return await read();
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private static async Task CreateUnlessExistsAsync<T>(Func<Task<T>> create)
    {
        try
        {
            await create();
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Conflict)
        {
        }
    }

    // Create; when it exists, replace it at the version read (a 409 or 404 then means it changed meanwhile: again).
    private static async Task CreateOrReplaceAsync<T>(T desired, Func<T, Task<T>> create, Func<Task<T>> read, Func<T, Task<T>> replace)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                desired.Metadata.ResourceVersion = null;
                await create(desired);
                return;
            }
            catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Conflict)
            {
            }
            try
            {
                desired.Metadata.ResourceVersion = (await read()).Metadata.ResourceVersion;
                await replace(desired);
                return;
            }
            catch (HttpOperationException ex) when (ex.Response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.NotFound && attempt < 3)
            {
            }
        }
    }

    private static async Task DeleteAsync<T>(Func<Task<T>> delete)
    {
        try
        {
            await delete();
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }
}
