using Gateway.Hosting.Processes;

namespace Gateway.Testing;

// A test run (or a benchmark on this fixture) that was SIGKILLed cannot stop its Postgres, Redis and RabbitMQ.
// Its folder in the temp directory carries its pid: when that process is gone, whatever still runs from the
// folder (by command line or working directory) is killed and the folder removed, before new servers start.
internal static class LeftoverServers
{
    public const string Prefix = "gateway-tests-";

    public static void Reap()
    {
        foreach (var folder in Directory.EnumerateDirectories(Path.GetTempPath(), Prefix + "*"))
        {
            var name = Path.GetFileName(folder);
            var pidText = name[Prefix.Length..].Split('-')[0];
            if (!int.TryParse(pidText, out var owner) || ProcessTable.IsAlive(owner))
            {
                continue;
            }
            var ghosts = ProcessTable.All().Where(p => p.State != 'Z' && Uses(p.Pid, folder)).ToList();
            foreach (var ghost in ghosts)
            {
                Signals.Send(ghost.Pid, Signals.SIGKILL);
            }
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (ghosts.Any(g => ProcessTable.IsAlive(g.Pid, g.StartTicks)) && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Litter in the temp folder, nothing running from it.
            }
        }
    }

    private static bool Uses(int pid, string folder)
    {
        if (ProcessTable.CommandLine(pid)?.Contains(folder, StringComparison.Ordinal) == true)
        {
            return true;
        }
        try
        {
            return new DirectoryInfo($"/proc/{pid}/cwd").ResolveLinkTarget(returnFinalTarget: false)?.FullName
                .StartsWith(folder, StringComparison.Ordinal) == true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
