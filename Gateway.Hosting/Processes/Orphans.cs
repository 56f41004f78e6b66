using System.Runtime.InteropServices;
using Gateway.Hosting.Orchestration;

namespace Gateway.Hosting.Processes;

/// <summary>
/// Makes this process the reaper of its descendants' orphans (Linux's child subreaper), so a grandchild whose parent
/// died is still ours to find and kill when we stop, instead of drifting off to init.
/// </summary>
internal static class Orphans
{
    private const int PR_SET_CHILD_SUBREAPER = 36;
    private const int WNOHANG = 1;

    private static Timer? reaper;

    /// <summary>Adopts orphans from now on, and collects the exit of those that end (nobody else will: they are not .NET's children).</summary>
    public static void AdoptAll()
    {
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        reaper ??= new Timer(_ => ReapZombies(), null, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));
    }

    /// <summary>SIGKILLs every process below us that is still running, then reaps the orphans among them.</summary>
    public static void KillAll(ResourceOutput output)
    {
        var self = Environment.ProcessId;
        var all = ProcessTable.All();
        var below = new HashSet<int> { self };
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var entry in all)
            {
                if (!below.Contains(entry.Pid) && below.Contains(entry.ParentPid))
                {
                    below.Add(entry.Pid);
                    grew = true;
                }
            }
        }
        below.Remove(self);
        var leftovers = all.Where(e => below.Contains(e.Pid) && e.State != 'Z').ToList();
        if (leftovers.Count > 0)
        {
            output.Event("apphost", $"killing {leftovers.Count} leftover process(es): {string.Join(", ", leftovers.Select(e => $"{e.Command} ({e.Pid})"))}");
            foreach (var entry in leftovers)
            {
                Signals.Send(entry.Pid, Signals.SIGKILL);
            }
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (leftovers.Any(e => ProcessTable.IsAlive(e.Pid, e.StartTicks)) && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
        }
        ReapZombies();
    }

    private static void ReapZombies()
    {
        var self = Environment.ProcessId;
        foreach (var entry in ProcessTable.All().Where(e => e.ParentPid == self && e.State == 'Z' && !ChildProcess.WasStartedHere(e.Pid)))
        {
            waitpid(entry.Pid, out _, WNOHANG);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

    [DllImport("libc", SetLastError = true)]
    private static extern int waitpid(int pid, out int status, int options);
}
