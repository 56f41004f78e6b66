using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Gateway.Chat.Assistants;

// One machine: each running assistant is a process of its own (workloads/Assistant), a child of the Chat instance that
// started it, in its own workspace folder <Directory>/<user id>/workspace, with limits (README: "Assistants"). The
// secret is written to its stdin, never to its environment, a file or a log; stdin stays open, and closing it stops the
// program gracefully (so the processes also end with their Chat). It starts with an environment of its own, without
// Chat's secrets.
// What runs is machine-wide, so that every Chat instance on this machine sees the same assistants: beside the workspace,
// <Directory>/<user id>/process.json (0600) names the process (its pid and start time, so a reused pid is not taken for
// it), the SHA-256 of its start's secret (never the secret), where it listens once it says so, and the Chat instance that
// started it. Any instance reads it (GetAsync) and stops the process by its pid (StopAsync); only the parent knows how
// a process ended (its exit code, its last error line). Calls for one user are ordered within an instance by a lock
// here, and across instances by the lifecycle's per-user advisory lock, which every start, restart and removal holds.
public sealed class LocalProcessRuntime(IOptions<AssistantOptions> options, ILogger<LocalProcessRuntime> logger) : IAssistantRuntime, IAsyncDisposable
{
    private static readonly TimeSpan GracefulStop = TimeSpan.FromSeconds(5);
    private const string StateFile = "process.json";
    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _locks = new();
    // This instance's own children (the other instances' processes are known only through their state files).
    private readonly ConcurrentDictionary<Guid, LocalAssistant> _children = new();
    private readonly ProcessIdentity _self = ProcessIdentity.Of(Environment.ProcessId) ?? new ProcessIdentity(Environment.ProcessId, 0);
    private readonly Guid _instance = Guid.NewGuid();

    public string FolderOf(Guid userId) => Path.Combine(options.Value.Directory, userId.ToString("N"));

    public async Task StartAsync(AssistantLaunch launch, CancellationToken cancellationToken)
    {
        using var _ = await LockAsync(launch.UserId, cancellationToken);
        var hash = Convert.ToHexString(Hash(launch.Secret));
        if (ReadState(launch.UserId) is { Stopping: false } state && state.Process.IsAlive() && state.SecretSha256 == hash)
        {
            return; // running (or starting) with this start's secret, whichever instance started it
        }
        await StopProcessAsync(launch.UserId);
        var workspace = Path.Combine(FolderOf(launch.UserId), "workspace");
        Directory.CreateDirectory(workspace);
        _children[launch.UserId] = LocalAssistant.Start(Command(workspace), launch, logger,
            started => WriteState(launch.UserId, new LocalState(started.Identity, hash, null, new Owner(_self, _instance))), OnListening);
    }

    public async Task StopAsync(Guid userId, CancellationToken cancellationToken)
    {
        using var _ = await LockAsync(userId, cancellationToken);
        await StopProcessAsync(userId);
    }

    public Task<RuntimeStatus> GetAsync(Guid userId, CancellationToken cancellationToken)
    {
        if (ReadState(userId) is not { } state)
        {
            return Task.FromResult(RuntimeStatus.Stopped);
        }
        if (state.Stopping)
        {
            // Going away on purpose: not to be served meanwhile (as a process not yet answering), and not a crash once gone.
            return Task.FromResult(state.Process.IsAlive() ? new RuntimeStatus(RuntimeState.Starting) : RuntimeStatus.Stopped);
        }
        if (state.Process.IsAlive())
        {
            return Task.FromResult(state.Endpoint is { } endpoint ? new RuntimeStatus(RuntimeState.Running, endpoint) : new RuntimeStatus(RuntimeState.Starting));
        }
        if (_children.TryGetValue(userId, out var child) && child.Identity.Pid == state.Process.Pid)
        {
            return Task.FromResult(child.HasExited ? child.Status : new RuntimeStatus(RuntimeState.Starting));
        }
        // Another instance's child that ended: only that instance knows how. One that ended with its Chat (stdin closed)
        // was not asked to and did not crash: Stopped, so the lifecycle starts it again as after a restart.
        return Task.FromResult(state.StartedBy.Instance == _instance || state.StartedBy.Process.IsAlive()
            ? new RuntimeStatus(RuntimeState.Exited, Reason: $"Its process ({state.Process.Pid}) ended; the Chat instance that started it (process {state.StartedBy.Process.Pid}) logged how.")
            : RuntimeStatus.Stopped);
    }

    public async Task RemoveAsync(Guid userId, CancellationToken cancellationToken)
    {
        using var _ = await LockAsync(userId, cancellationToken);
        await StopProcessAsync(userId);
        if (Directory.Exists(FolderOf(userId)))
        {
            Directory.Delete(FolderOf(userId), recursive: true);
        }
    }

    // The process ID of a user's assistant, while it runs, whichever instance started it (for tests and diagnostics).
    public int? ProcessId(Guid userId) => ReadState(userId) is { } state && state.Process.IsAlive() ? state.Process.Pid : null;

    // Marks the state stopping and stops the process it names (gracefully through stdin when it is this instance's
    // child, else SIGTERM, then SIGKILL after GracefulStop), and this instance's own child if another is left; then
    // deletes the state file if it still names that process.
    private async Task StopProcessAsync(Guid userId)
    {
        var state = ReadState(userId);
        if (state is { Stopping: false } && state.Process.IsAlive())
        {
            WriteState(userId, state with { Stopping = true });
        }
        if (_children.TryRemove(userId, out var child))
        {
            await StopAsync(child);
        }
        if (state is not null && state.Process.Pid != child?.Identity.Pid && state.Process.IsAlive())
        {
            await KillAsync(userId, state.Process);
        }
        if (state is not null && ReadState(userId)?.Process == state.Process)
        {
            File.Delete(StatePath(userId));
        }
    }

    private async Task KillAsync(Guid userId, ProcessIdentity process)
    {
        logger.LogInformation("Stopping the assistant of {UserId} (process {ProcessId}, started by another Chat instance)", userId, process.Pid);
        Terminate(process.Pid, SigTerm);
        var until = DateTime.UtcNow + GracefulStop;
        while (process.IsAlive() && DateTime.UtcNow < until)
        {
            await Task.Delay(50);
        }
        if (process.IsAlive())
        {
            Terminate(process.Pid, SigKill);
            while (process.IsAlive())
            {
                await Task.Delay(20);
            }
        }
    }

    private const int SigTerm = 15;
    private const int SigKill = 9;

    // The program stops gracefully on SIGTERM (as on its stdin closing); Windows has no signal to send, only a kill.
    private static void Terminate(int pid, int signal)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
            return;
        }
        Signal(pid, signal); // ESRCH (gone meanwhile) is the same as done
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Signal(int pid, int signal);

    // The program said where it listens: written into the state file, if that still names this process.
    private void OnListening(Guid userId, LocalAssistant assistant)
    {
        try
        {
            lock (assistant)
            {
                if (!assistant.Stopping && !assistant.HasExited && ReadState(userId) is { } state && state.Process == assistant.Identity)
                {
                    WriteState(userId, state with { Endpoint = assistant.Endpoint });
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left Starting: the lifecycle counts it a crash after StartTimeout and stops it.
            logger.LogError(ex, "The address of {UserId}'s assistant could not be written to its state file", userId);
        }
    }

    private string StatePath(Guid userId) => Path.Combine(FolderOf(userId), StateFile);

    private LocalState? ReadState(Guid userId)
    {
        try
        {
            return JsonSerializer.Deserialize<LocalState>(File.ReadAllBytes(StatePath(userId)));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (JsonException ex)
        {
            logger.LogWarning(ex, "The assistant state file of {UserId} cannot be read; taken as nothing running", userId);
            return null;
        }
    }

    // Written whole to a file of its own (0600) and renamed over the old one, so a reader sees the old or the new state.
    private void WriteState(Guid userId, LocalState state)
    {
        var path = StatePath(userId);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var file = new FileStream(temporary, create))
        {
            JsonSerializer.Serialize(file, state);
        }
        File.Move(temporary, path, overwrite: true);
    }

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

    private static async Task StopAsync(LocalAssistant assistant)
    {
        lock (assistant)
        {
            assistant.Stopping = true; // from here its late "listening" line writes nothing
        }
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

    // This instance's children end with it (as they would when it exits: their stdin closes), marked stopping first, so
    // that another instance sees them Stopped (not crashed) and the lifecycle starts them again there.
    public async ValueTask DisposeAsync()
    {
        foreach (var userId in _children.Keys)
        {
            using var _ = await LockAsync(userId, CancellationToken.None);
            if (_children.TryRemove(userId, out var child))
            {
                var state = ReadState(userId);
                var named = state is not null && state.Process == child.Identity;
                if (named && !child.HasExited)
                {
                    WriteState(userId, state! with { Stopping = true });
                }
                // The file stays (stopping, its process gone: Stopped to everyone): another instance may already have
                // seen that and written its own start's, which deleting here could remove.
                await StopAsync(child);
            }
        }
    }

    // A process as /proc shows it: its pid and its start time (clock ticks after boot, field 22 of /proc/<pid>/stat),
    // which together name one process even when its pid is later reused.
    public sealed record ProcessIdentity(int Pid, ulong StartTime)
    {
        public static ProcessIdentity? Of(int pid)
        {
            if (!OperatingSystem.IsLinux())
            {
                return Portable(pid);
            }
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                // After the command's name (in parentheses, which may hold spaces): field 3 (state) onwards.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // A zombie (Z) or dead (X) process has ended; only its parent has not reaped it yet.
                return fields[0] is "Z" or "X" ? null : new ProcessIdentity(pid, ulong.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                return null;
            }
        }

        // Elsewhere (a developer's macOS or Windows): the start time .NET reports, in ticks. Not tested here.
        private static ProcessIdentity? Portable(int pid)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                return process.HasExited ? null : new ProcessIdentity(pid, (ulong)process.StartTime.ToUniversalTime().Ticks);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                return null;
            }
        }

        public bool IsAlive() => Of(Pid) == this;
    }

    public sealed record Owner(ProcessIdentity Process, Guid Instance);

    // <Directory>/<user id>/process.json: what runs for a user, readable by every Chat instance on this machine.
    // Stopping: being stopped on purpose (its end is neither a crash nor to be served meanwhile).
    public sealed record LocalState(ProcessIdentity Process, string SecretSha256, Uri? Endpoint, Owner StartedBy, bool Stopping = false);

    // One child process of this instance: its address once it says where it listens, and how it ended.
    private sealed class LocalAssistant
    {
        private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private string? _lastError;
        private int _exitCode;

        private LocalAssistant(Process process) => Process = process;

        public Process Process { get; }
        public ProcessIdentity Identity { get; private set; } = null!;
        public Uri? Endpoint { get; private set; }
        public bool Stopping { get; set; }
        public bool HasExited => _exited.Task.IsCompleted;

        public RuntimeStatus Status => HasExited
            ? Stopping ? RuntimeStatus.Stopped : new RuntimeStatus(RuntimeState.Exited, Reason: ExitReason())
            : Endpoint is null ? new RuntimeStatus(RuntimeState.Starting) : new RuntimeStatus(RuntimeState.Running, Endpoint);

        // started: once its identity is known, before its output is read (so that listening never comes first).
        public static LocalAssistant Start(ProcessStartInfo start, AssistantLaunch launch, ILogger logger,
            Action<LocalAssistant> started, Action<Guid, LocalAssistant> listening)
        {
            var process = new Process { StartInfo = start, EnableRaisingEvents = true };
            var assistant = new LocalAssistant(process);
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
                    listening(launch.UserId, assistant);
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
            // Gone already (it could not even start): a start time no live process has, and its parent says how it ended.
            assistant.Identity = ProcessIdentity.Of(process.Id) ?? new ProcessIdentity(process.Id, 0);
            try
            {
                started(assistant);
            }
            catch
            {
                process.Kill(entireProcessTree: true); // not left running unrecorded
                process.Dispose();
                throw;
            }
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
