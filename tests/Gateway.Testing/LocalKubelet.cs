using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using k8s.Models;

namespace Gateway.Testing;

// LocalKubernetes' node: runs a pod whose image it knows as a local process of that image's program, as a kubelet would
// run its container. Its volumes are folders (a PersistentVolumeClaim's folder lives until the claim is deleted; a
// Secret's keys are files; an emptyDir is new), mounted by rewriting the mount paths in the container's arguments and
// environment; the pod gets an address of its own, 127.0.0.N, so every pod can listen on the container's port. Once the
// program answers its readiness probe the pod is Ready; when it ends without being stopped its container is reported
// crash-looping with the exit code (it is not restarted: Chat's lifecycle decides that). Pods of other images stay
// Pending. No resource limits, user ids or read-only root are enforced.
public sealed class LocalKubelet(IReadOnlyDictionary<string, string> programs) : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"gateway-tests-kubelet-{Guid.NewGuid():N}");
    private readonly ConcurrentDictionary<(string Namespace, string Pod), Container> _running = new();
    private int _lastAddress = 1;

    // The process of a running pod's container, for a test that makes it crash.
    public int? ProcessId(V1Pod pod) =>
        _running.TryGetValue((pod.Metadata.NamespaceProperty, pod.Metadata.Name), out var container) && !container.Process.HasExited ? container.Process.Id : null;

    // While paused, new pods are not run (they stay Pending, as on a node that cannot pull their image yet).
    public bool Paused { get; set; }

    public string VolumeFolder(string @namespace, string claim) => Path.Combine(_root, "volumes", @namespace, claim);

    internal void Run(LocalKubernetes api, V1Pod pod)
    {
        if (!Paused && programs.TryGetValue(pod.Spec.Containers[0].Image, out var program))
        {
            _ = Task.Run(() => StartAsync(api, pod, program));
        }
    }

    internal void Stop(string @namespace, string pod)
    {
        if (_running.TryRemove((@namespace, pod), out var container))
        {
            container.Stop();
            var folder = Path.Combine(_root, "pods", pod);
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    // A deleted claim's volume goes with it (reclaim policy Delete).
    internal void Release(string @namespace, string claim)
    {
        if (Directory.Exists(VolumeFolder(@namespace, claim)))
        {
            Directory.Delete(VolumeFolder(@namespace, claim), recursive: true);
        }
    }

    private async Task StartAsync(LocalKubernetes api, V1Pod pod, string program)
    {
        var @namespace = pod.Metadata.NamespaceProperty;
        var spec = pod.Spec.Containers[0];
        var podFolder = Path.Combine(_root, "pods", pod.Metadata.Name);
        var mounts = new List<(string MountPath, string Folder)>();
        foreach (var mount in spec.VolumeMounts ?? [])
        {
            var volume = pod.Spec.Volumes.Single(v => v.Name == mount.Name);
            string folder;
            if (volume.PersistentVolumeClaim is { } claim)
            {
                if (api.Get<V1PersistentVolumeClaim>("persistentvolumeclaims", @namespace, claim.ClaimName) is null)
                {
                    return; // a real pod waits in ContainerCreating for its claim; this one stays Pending
                }
                folder = VolumeFolder(@namespace, claim.ClaimName);
                Directory.CreateDirectory(folder);
            }
            else if (volume.Secret is { } secretVolume)
            {
                if (api.Get<V1Secret>("secrets", @namespace, secretVolume.SecretName) is not { } secret)
                {
                    return;
                }
                folder = Path.Combine(podFolder, mount.Name);
                Directory.CreateDirectory(folder);
                foreach (var (key, value) in secret.Data ?? new Dictionary<string, byte[]>())
                {
                    await File.WriteAllBytesAsync(Path.Combine(folder, key), value);
                    File.SetUnixFileMode(Path.Combine(folder, key), UnixFileMode.UserRead | UnixFileMode.GroupRead);
                }
            }
            else
            {
                folder = Path.Combine(podFolder, mount.Name);
                Directory.CreateDirectory(folder);
            }
            mounts.Add((mount.MountPath, folder));
        }

        var address = $"127.0.0.{Interlocked.Increment(ref _lastAddress) % 250 + 2}";
        var local = (string value) =>
            mounts.Where(m => value == m.MountPath || value.StartsWith(m.MountPath + "/", StringComparison.Ordinal))
                .Select(m => m.Folder + value[m.MountPath.Length..]).FirstOrDefault()
            ?? value.Replace("http://+:", $"http://{address}:", StringComparison.Ordinal).Replace("http://0.0.0.0:", $"http://{address}:", StringComparison.Ordinal);
        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = Directory.CreateDirectory(podFolder).FullName,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(program);
        foreach (var argument in (spec.Command ?? []).Skip(1).Concat(spec.Args ?? []))
        {
            start.ArgumentList.Add(local(argument));
        }
        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        foreach (var variable in spec.Env ?? [])
        {
            start.Environment[variable.Name] = local(variable.Value ?? "");
        }

        var process = Process.Start(start)!;
        var container = new Container(process);
        // Deleted meanwhile: it does not run.
        if (!_running.TryAdd((@namespace, pod.Metadata.Name), container) || api.Get<V1Pod>("pods", @namespace, pod.Metadata.Name) is null)
        {
            Stop(@namespace, pod.Metadata.Name);
            container.Stop();
            return;
        }
        _ = process.StandardError.ReadToEndAsync();
        var port = spec.Ports[0].ContainerPort;
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("listening: ", StringComparison.Ordinal) && spec.ReadinessProbe?.HttpGet is { } probe)
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
                using var answer = await http.GetAsync(new UriBuilder("http", address, port, probe.Path).Uri);
                if (answer.IsSuccessStatusCode && !container.Stopped)
                {
                    api.MarkReady(pod, address);
                }
            }
        }
        await process.WaitForExitAsync();
        if (!container.Stopped)
        {
            api.Crash(pod, "Error", process.ExitCode, restarts: 1);
        }
        process.Dispose();
    }

    // The dotnet host this test process runs on.
    private static string DotnetHost() =>
        Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));

    public ValueTask DisposeAsync()
    {
        foreach (var key in _running.Keys)
        {
            Stop(key.Namespace, key.Pod);
        }
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
        return ValueTask.CompletedTask;
    }

    private sealed class Container(Process process)
    {
        public Process Process { get; } = process;
        public bool Stopped { get; private set; }

        public void Stop()
        {
            Stopped = true;
            try
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(TimeSpan.FromSeconds(5));
            }
            catch (InvalidOperationException)
            {
                // already ended
            }
        }
    }
}
