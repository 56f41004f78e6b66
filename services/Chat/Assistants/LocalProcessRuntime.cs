using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Gateway.Chat.Assistants;

// One machine: each running assistant is a process of its own (workloads/Assistant), a child of this Chat, in its own
// workspace folder <Directory>/<user id>/workspace, with limits (README: "Assistants"). The secret is written to its
// stdin, never to its environment, a file or a log; stdin stays open, and closing it stops the program gracefully (so
// the processes also end with this Chat). It starts with an environment of its own, without Chat's secrets.
public sealed class LocalProcessRuntime(IOptions<AssistantOptions> options, ILogger<LocalProcessRuntime> logger) : IAssistantRuntime, IAsyncDisposable
{
    private static readonly TimeSpan GracefulStop = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _locks = new();
    private readonly ConcurrentDictionary<Guid, LocalAssistant> _running = new();

    public string FolderOf(Guid userId) => Path.Combine(options.Value.Directory, userId.ToString("N"));

    public async Task StartAsync(AssistantLaunch launch, CancellationToken cancellationToken)
    {
        using var _ = await LockAsync(launch.UserId, cancellationToken);
        if (_running.TryGetValue(launch.UserId, out var current))
        {
            if (!current.HasExited && current.SecretHash.SequenceEqual(Hash(launch.Secret)))
            {
                return;
            }
            await StopAsync(current);
        }
        var workspace = Path.Combine(FolderOf(launch.UserId), "workspace");
        Directory.CreateDirectory(workspace);
        _running[launch.UserId] = LocalAssistant.Start(Command(workspace), launch, logger);
    }

    public async Task StopAsync(Guid userId, CancellationToken cancellationToken)
    {
        using var _ = await LockAsync(userId, cancellationToken);
        if (_running.TryRemove(userId, out var current))
        {
            await StopAsync(current);
        }
    }

    public Task<RuntimeStatus> GetAsync(Guid userId, CancellationToken cancellationToken) =>
        Task.FromResult(_running.TryGetValue(userId, out var current) ? current.Status : RuntimeStatus.Stopped);

    public async Task RemoveAsync(Guid userId, CancellationToken cancellationToken)
    {
        await StopAsync(userId, cancellationToken);
        using var _ = await LockAsync(userId, cancellationToken);
        if (Directory.Exists(FolderOf(userId)))
        {
            Directory.Delete(FolderOf(userId), recursive: true);
        }
    }

    // The process ID of a user's assistant, while it runs (for tests and diagnostics).
    public int? ProcessId(Guid userId) => _running.TryGetValue(userId, out var current) && !current.HasExited ? current.Process.Id : null;

    private ProcessStartInfo Command(string workspace)
    {
        var settings = options.Value;
        // prlimit(1) sets the limits and then becomes the program (exec), so the process ID is the program's.
        var start = new ProcessStartInfo(File.Exists("/usr/bin/prlimit") ? "/usr/bin/prlimit" : DotnetHost())
        {
            WorkingDirectory = workspace,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (start.FileName == "/usr/bin/prlimit")
        {
            foreach (var limit in new[] { $"--nofile={settings.MaxOpenFiles}", $"--fsize={settings.MaxWorkspaceBytes}", "--core=0", "--", DotnetHost() })
            {
                start.ArgumentList.Add(limit);
            }
        }
        foreach (var argument in new[]
                 {
                     settings.ProgramPath, "--urls", "http://127.0.0.1:0", "--Assistant:Workspace", workspace,
                     "--Assistant:MaxFileBytes", settings.MaxFileBytes.ToString(), "--Assistant:MaxWorkspaceBytes", settings.MaxWorkspaceBytes.ToString(),
                 })
        {
            start.ArgumentList.Add(argument);
        }
        // Nothing of Chat's environment (connection strings, keys) reaches the program.
        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        start.Environment["HOME"] = workspace;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        // The managed heap's hard limit (an allocation beyond it is an OutOfMemoryException, then the process ends), one
        // heap and no background GC thread: a small program's footprint.
        start.Environment["DOTNET_GCHeapHardLimit"] = $"0x{(long)settings.MemoryLimitMiB * 1024 * 1024:X}";
        start.Environment["DOTNET_gcServer"] = "0";
        start.Environment["DOTNET_gcConcurrent"] = "0";
        start.Environment["DOTNET_TieredPGO"] = "0";
        return start;
    }

    // The dotnet host this Chat runs on (…/dotnet/shared/Microsoft.NETCore.App/<version>/ → …/dotnet/dotnet).
    private static string DotnetHost() =>
        Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet"));

    private async Task StopAsync(LocalAssistant assistant)
    {
        assistant.Stopping = true;
        await assistant.StopAsync(GracefulStop);
    }

    private async Task<IDisposable> LockAsync(Guid userId, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd(userId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Release(gate);
    }

    private sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }

    internal static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_running.Values.Select(StopAsync));
        _running.Clear();
    }

    // One process: its address once it says where it listens, and how it ended.
    private sealed class LocalAssistant
    {
        private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private string? _lastError;
        private int _exitCode;

        private LocalAssistant(Process process, byte[] secretHash)
        {
            Process = process;
            SecretHash = secretHash;
        }

        public Process Process { get; }
        public byte[] SecretHash { get; }
        public Uri? Endpoint { get; private set; }
        public bool Stopping { get; set; }
        public bool HasExited => _exited.Task.IsCompleted;

        public RuntimeStatus Status => HasExited
            ? Stopping ? RuntimeStatus.Stopped : new RuntimeStatus(RuntimeState.Exited, Reason: ExitReason())
            : Endpoint is null ? new RuntimeStatus(RuntimeState.Starting) : new RuntimeStatus(RuntimeState.Running, Endpoint);

        public static LocalAssistant Start(ProcessStartInfo start, AssistantLaunch launch, ILogger logger)
        {
            var process = new Process { StartInfo = start, EnableRaisingEvents = true };
            var assistant = new LocalAssistant(process, Hash(launch.Secret));
            process.Exited += (_, _) =>
            {
                assistant._exitCode = process.ExitCode;
                assistant._exited.TrySetResult();
            };
            process.OutputDataReceived += (_, line) =>
            {
                if (line.Data is { } text && text.StartsWith("listening: ", StringComparison.Ordinal) && assistant.Endpoint is null)
                {
                    assistant.Endpoint = new Uri(text["listening: ".Length..].Trim());
                }
            };
            process.ErrorDataReceived += (_, line) =>
            {
                if (line.Data is { Length: > 0 } text)
                {
                    assistant._lastError = text;
                    logger.LogWarning("Assistant of {UserId}: {Line}", launch.UserId, text);
                }
            };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            process.StandardInput.WriteLine(launch.Secret);
            process.StandardInput.Flush();
            logger.LogInformation("Started the assistant of {UserId} (process {ProcessId})", launch.UserId, process.Id);
            return assistant;
        }

        private string ExitReason()
        {
            var code = _exitCode;
            var how = code > 128 ? $"was killed by signal {code - 128}" : $"exited with code {code}";
            return _lastError is { } error ? $"Its process {how}: {error}" : $"Its process {how}.";
        }

        public async Task StopAsync(TimeSpan grace)
        {
            if (!HasExited)
            {
                try
                {
                    Process.StandardInput.Close(); // the program's signal to stop
                }
                catch (IOException)
                {
                }
                if (await Task.WhenAny(_exited.Task, Task.Delay(grace)) != _exited.Task)
                {
                    Process.Kill(entireProcessTree: true);
                    await _exited.Task;
                }
            }
            Process.Dispose();
        }
    }
}
