namespace Gateway.Bench.Chat;

// CPU time used so far by the machine and by the processes that share it (/proc), grouped by name: the bench's own
// process (the client, MockLlm and every service), Postgres, RabbitMQ (beam.smp) and, for Portkey, node.
public sealed record CpuTime(double MachineTicks, Dictionary<string, double> TicksByProcess)
{
    private static readonly double TicksPerMs = 100 / 1000.0; // USER_HZ
    private static readonly string Self = Environment.ProcessId.ToString();

    public static CpuTime Now()
    {
        var byProcess = new Dictionary<string, double>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            var pid = Path.GetFileName(folder);
            if (!char.IsAsciiDigit(pid[0])) continue; // self and thread-self are this process again
            try
            {
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                var name = pid == Self ? "bench process" : stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
                if (name.StartsWith("kworker", StringComparison.Ordinal)) continue; // kernel workers rename themselves as they go
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                byProcess[name] = byProcess.GetValueOrDefault(name) + double.Parse(fields[11]) + double.Parse(fields[12]); // utime + stime
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
            {
                // The process ended while we looked.
            }
        }
        var machine = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..8].Select(double.Parse).ToArray();
        return new CpuTime(machine.Sum() - machine[3] - machine[4], byProcess); // all but idle and iowait
    }

    // "machine 2.41: bench process 1.52, postgres 0.41, beam.smp 0.37" for the processes that used at least 2%.
    public string PerRequestSince(CpuTime before, int requests)
    {
        if (requests == 0) return "-";
        double PerRequest(double ticks) => ticks / TicksPerMs / requests;
        var busiest = TicksByProcess
            .Select(p => (Name: p.Key, Ticks: p.Value - before.TicksByProcess.GetValueOrDefault(p.Key)))
            .Where(p => p.Ticks > 0.02 * (MachineTicks - before.MachineTicks))
            .OrderByDescending(p => p.Ticks)
            .Select(p => $"{p.Name} {PerRequest(p.Ticks):0.00}");
        return $"machine {PerRequest(MachineTicks - before.MachineTicks):0.00}: {string.Join(", ", busiest)}";
    }
}
