namespace Gateway.Hosting.Processes;

/// <summary>
/// The processes one application starts, however deep in its async calls (an AsyncLocal), so that it can list them
/// in its pid file and, when it ends, kill exactly its own trees and nobody else's (a test host may run several).
/// </summary>
public sealed class ProcessScope : IDisposable
{
    private static readonly AsyncLocal<ProcessScope?> CurrentScope = new();
    private readonly List<ChildProcess> started = [];
    private readonly ProcessScope? outer;

    private ProcessScope()
    {
        outer = CurrentScope.Value;
    }

    /// <summary>Raised when one of this scope's processes starts or ends.</summary>
    public event Action? Changed;

    internal static ProcessScope? Current => CurrentScope.Value;

    /// <summary>Every process started from here on in this async flow belongs to the new scope.</summary>
    public static ProcessScope Begin()
    {
        var scope = new ProcessScope();
        CurrentScope.Value = scope;
        return scope;
    }

    public IReadOnlyList<ChildProcess> Running
    {
        get
        {
            lock (started)
            {
                return [.. started.Where(c => !c.HasExited)];
            }
        }
    }

    /// <summary>SIGKILLs every process this scope started that still runs, with its descendants and process group, and waits until they are gone.</summary>
    public IReadOnlyList<ProcessEntry> KillAll()
    {
        List<ChildProcess> all;
        lock (started)
        {
            all = [.. started];
        }
        var targets = all.SelectMany(c => ProcessTable.TreeAndGroup(c.Id, c.StartTicks)).DistinctBy(e => e.Pid).ToList();
        foreach (var entry in targets)
        {
            Signals.Send(entry.Pid, Signals.SIGKILL);
        }
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (targets.Any(t => ProcessTable.IsAlive(t.Pid, t.StartTicks)) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
        return targets;
    }

    public void Dispose()
    {
        if (CurrentScope.Value == this)
        {
            CurrentScope.Value = outer;
        }
    }

    internal void Add(ChildProcess child)
    {
        lock (started)
        {
            started.Add(child);
        }
        child.Exited.ContinueWith(_ => Changed?.Invoke(), TaskScheduler.Default);
        Changed?.Invoke();
    }
}
