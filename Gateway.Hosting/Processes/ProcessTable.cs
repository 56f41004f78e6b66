namespace Gateway.Hosting.Processes;

/// <summary>
/// One row of /proc/PID/stat: enough to find a process's children, its group, to tell it from a later process with the
/// same pid, and what it costs (CPU time used in clock ticks, resident pages).
/// </summary>
public sealed record ProcessEntry(int Pid, int ParentPid, int ProcessGroup, ulong StartTicks, string Command, char State, ulong CpuTicks = 0, long ResidentPages = 0);

/// <summary>Reads Linux's /proc: who is alive, whose child, in which process group.</summary>
public static class ProcessTable
{
    public static ProcessEntry? Read(int pid)
    {
        try
        {
            return Parse(File.ReadAllText($"/proc/{pid}/stat"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    public static IReadOnlyList<ProcessEntry> All()
    {
        var list = new List<ProcessEntry>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && Read(pid) is { } entry)
            {
                list.Add(entry);
            }
        }
        return list;
    }

    /// <summary>True when the pid is running (not a zombie) and, if given, started at the same kernel tick.</summary>
    public static bool IsAlive(int pid, ulong? startTicks = null) =>
        Read(pid) is { } e && e.State != 'Z' && (startTicks is null || e.StartTicks == startTicks);

    public static string? CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The process started at <paramref name="startTicks"/>, everything below it, and everything left in its process group
    /// (orphans re-parented to init stay in the group). Works after the leader has ended too.
    /// </summary>
    public static IReadOnlyList<ProcessEntry> TreeAndGroup(int pid, ulong startTicks) => TreeAndGroup(pid, startTicks, All());

    /// <inheritdoc cref="TreeAndGroup(int, ulong)"/>
    /// <param name="all">A reading of the whole table, when several trees are looked up at once.</param>
    public static IReadOnlyList<ProcessEntry> TreeAndGroup(int pid, ulong startTicks, IReadOnlyList<ProcessEntry> all)
    {
        var found = new Dictionary<int, ProcessEntry>();
        foreach (var e in all)
        {
            if ((e.Pid == pid && e.StartTicks == startTicks) || (e.ProcessGroup == pid && e.StartTicks >= startTicks))
            {
                found[e.Pid] = e;
            }
        }
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var e in all)
            {
                if (!found.ContainsKey(e.Pid) && found.ContainsKey(e.ParentPid))
                {
                    found[e.Pid] = e;
                    grew = true;
                }
            }
        }
        return [.. found.Values.Where(e => e.State != 'Z')];
    }

    // "pid (comm) S ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime prio nice threads itreal starttime vsize rss ..."
    private static ProcessEntry Parse(string stat)
    {
        var open = stat.IndexOf('(');
        var close = stat.LastIndexOf(')');
        if (open < 0 || close < open)
        {
            throw new FormatException("Unexpected /proc stat line.");
        }
        var rest = stat[(close + 2)..].Split(' ');
        return new ProcessEntry(
            Pid: int.Parse(stat[..(open - 1)]),
            ParentPid: int.Parse(rest[1]),
            ProcessGroup: int.Parse(rest[2]),
            StartTicks: ulong.Parse(rest[19]),
            Command: stat[(open + 1)..close],
            State: rest[0][0],
            CpuTicks: ulong.Parse(rest[11]) + ulong.Parse(rest[12]),
            ResidentPages: long.Parse(rest[21]));
    }
}
