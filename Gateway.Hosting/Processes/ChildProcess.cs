using System.Diagnostics;

namespace Gateway.Hosting.Processes;

/// <summary>What to start. Environment values of null remove an inherited variable.</summary>
public sealed record ChildProcessOptions(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>A short name for logs and the pid file, e.g. "postgres" or "identity".</summary>
    public string Label { get; init; } = Path.GetFileName(FileName);
    public string? WorkingDirectory { get; init; }
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();
    /// <summary>Called for every line the process writes; the flag is true for stderr.</summary>
    public Action<string, bool>? OnOutput { get; init; }
}

/// <summary>
/// A child process in its own session (through setsid), so a terminal's Ctrl+C reaches only us and the whole
/// group can be killed even after its leader died. Stopping sends a signal, waits, then kills every process of
/// the tree and the group: nothing it started survives.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private const string SetSid = "/usr/bin/setsid";

    private readonly Process process;
    private readonly TaskCompletionSource<int> exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<string> recent = new();

    private ChildProcess(Process process, string label)
    {
        this.process = process;
        Label = label;
    }

    public string Label { get; }
    public int Id { get; private set; }
    /// <summary>The kernel's start time of the process (clock ticks since boot): tells it apart from a later process with the same pid.</summary>
    public ulong StartTicks { get; private set; }
    /// <summary>Completes with the exit code when the process itself ends (128+signal when killed), without waiting for its output pipes.</summary>
    public Task<int> Exited => exited.Task;
    public bool HasExited => exited.Task.IsCompleted;

    /// <summary>The last lines of output, for error messages.</summary>
    public IReadOnlyList<string> RecentOutput
    {
        get
        {
            lock (recent)
            {
                return [.. recent];
            }
        }
    }

    public static ChildProcess Start(ChildProcessOptions options)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = options.WorkingDirectory ?? Environment.CurrentDirectory,
        };
        if (File.Exists(SetSid))
        {
            info.FileName = SetSid;
            info.ArgumentList.Add(options.FileName);
        }
        else
        {
            info.FileName = options.FileName;
        }
        foreach (var argument in options.Arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in options.Environment)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process, options.Label);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, isError: false, options.OnOutput);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, isError: true, options.OnOutput);
        process.Exited += (_, _) => child.OnExited();
        process.Start();
        child.Id = process.Id;
        child.StartTicks = ProcessTable.Read(process.Id)?.StartTicks ?? 0;
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        ProcessScope.Current?.Add(child);
        return child;
    }

    /// <summary>Runs a short command to its end and returns its exit code and output; kills it when it overruns.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(ChildProcessOptions options, TimeSpan timeout, CancellationToken ct = default)
    {
        await using var child = Start(options);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            var code = await child.Exited.WaitAsync(limit.Token);
            return (code, string.Join('\n', child.RecentOutput));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            child.Kill();
            return (-1, $"{options.Label} did not finish within {timeout.TotalSeconds:0} s. " + string.Join('\n', child.RecentOutput));
        }
    }

    public bool Signal(int signal) => !HasExited && Signals.Send(Id, signal);

    /// <summary>Sends <paramref name="signal"/>, waits up to <paramref name="timeout"/>, then kills the tree. True when it ended by itself in time.</summary>
    public async Task<bool> StopAsync(int signal, TimeSpan timeout)
    {
        // Seen while the parent links still hold: some descendants leave the group (erl_child_setup, Postgres's backends
        // call setsid) and would be orphans nobody can find once their parent is gone.
        IReadOnlyList<ProcessEntry> before = [];
        if (!HasExited)
        {
            before = ProcessTable.TreeAndGroup(Id, StartTicks);
            Signal(signal);
            try
            {
                await Exited.WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
            }
        }
        var graceful = HasExited;
        Kill(before);
        return graceful;
    }

    /// <summary>
    /// SIGKILLs the process, its descendants, whatever is left in its process group and the <paramref name="alsoThese"/>
    /// still running, and waits (up to 5 s) until they are gone.
    /// </summary>
    public void Kill(IEnumerable<ProcessEntry>? alsoThese = null)
    {
        if (Id == 0)
        {
            return;
        }
        var targets = ProcessTable.TreeAndGroup(Id, StartTicks).Concat(alsoThese ?? []).DistinctBy(e => e.Pid).ToList();
        foreach (var entry in targets.Where(e => ProcessTable.IsAlive(e.Pid, e.StartTicks)))
        {
            Signals.Send(entry.Pid, Signals.SIGKILL);
        }
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (targets.Any(t => ProcessTable.IsAlive(t.Pid, t.StartTicks)) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
        if (!HasExited)
        {
            Exited.Wait(TimeSpan.FromSeconds(5));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(10));
        process.Dispose();
    }

    private void OnLine(string? line, bool isError, Action<string, bool>? callback)
    {
        if (line is null)
        {
            return;
        }
        lock (recent)
        {
            recent.Enqueue(line);
            if (recent.Count > 40)
            {
                recent.Dequeue();
            }
        }
        callback?.Invoke(line, isError);
    }

    private void OnExited()
    {
        int code;
        try
        {
            code = process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            code = -1;
        }
        exited.TrySetResult(code);
    }
}
