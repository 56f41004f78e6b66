using Gateway.Hosting.Processes;

namespace Gateway.Hosting.Orchestration;

/// <summary>
/// apphost.pids in the data folder lists this AppHost and every child it runs (label, pid, kernel start time), kept
/// current as they come and go. An AppHost that was SIGKILLed cannot stop its children, so the next one reads the
/// file and kills what is left, and no ghost holds a port or a data folder. A live AppHost on the same folder is refused.
/// </summary>
internal sealed class PidFile : IDisposable
{
    private const string FileName = "apphost.pids";
    private readonly string path;
    private readonly ProcessScope scope;
    private readonly string bootId = BootId();
    private readonly object gate = new();
    private bool disposed;

    private PidFile(string path, ProcessScope scope)
    {
        this.path = path;
        this.scope = scope;
    }

    /// <summary>Kills what a dead AppHost left on this data folder, then keeps the file listing the processes of <paramref name="scope"/>.</summary>
    public static PidFile Open(string dataDirectory, ProcessScope scope, ResourceOutput output)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        KillLeftovers(path, output);
        var file = new PidFile(path, scope);
        scope.Changed += file.Write;
        file.Write();
        return file;
    }

    public void Dispose()
    {
        scope.Changed -= Write;
        lock (gate)
        {
            disposed = true;
            File.Delete(path);
        }
    }

    private void Write()
    {
        // Snapshot and write under one lock, so a late writer never replaces a newer list with an older one.
        lock (gate)
        {
            if (disposed)
            {
                return;
            }
            var self = ProcessTable.Read(Environment.ProcessId)!;
            var lines = new List<string> { $"boot {bootId}", $"apphost {self.Pid} {self.StartTicks}" };
            lines.AddRange(scope.Running.Select(c => $"{c.Label} {c.Id} {c.StartTicks}"));
            var temporary = path + ".tmp";
            File.WriteAllLines(temporary, lines);
            File.Move(temporary, path, overwrite: true);
        }
    }

    private static void KillLeftovers(string path, ResourceOutput output)
    {
        if (!File.Exists(path))
        {
            return;
        }
        var entries = File.ReadAllLines(path).Select(l => l.Split(' ')).Where(f => f.Length == 3 && int.TryParse(f[1], out _) && ulong.TryParse(f[2], out _))
            .Select(f => (Label: f[0], Pid: int.Parse(f[1]), Start: ulong.Parse(f[2]))).ToList();
        var sameBoot = File.ReadLines(path).FirstOrDefault() == $"boot {BootId()}";
        if (sameBoot)
        {
            foreach (var (_, pid, start) in entries.Where(e => e.Label == "apphost"))
            {
                if (pid != Environment.ProcessId && ProcessTable.IsAlive(pid, start))
                {
                    throw new AppHostException($"Another AppHost (pid {pid}) is running on the data folder {Path.GetDirectoryName(path)}: stop it first, or give this one another folder with GATEWAY_DATA or --data.");
                }
            }
            foreach (var (label, pid, start) in entries.Where(e => e.Label != "apphost"))
            {
                var ghosts = ProcessTable.TreeAndGroup(pid, start);
                if (ghosts.Count == 0)
                {
                    continue;
                }
                output.Event("apphost", $"killing {label} (pid {pid}) and {ghosts.Count - 1} more, left running by an AppHost that did not stop");
                foreach (var ghost in ghosts)
                {
                    Signals.Send(ghost.Pid, Signals.SIGKILL);
                }
                var deadline = DateTime.UtcNow.AddSeconds(5);
                while (ghosts.Any(g => ProcessTable.IsAlive(g.Pid, g.StartTicks)) && DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(20);
                }
            }
        }
        File.Delete(path);
    }

    private static string BootId()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
