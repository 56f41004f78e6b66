using System.Diagnostics;
using System.Reflection;
using Gateway.Hosting.Processes;

namespace Gateway.AppHost.Tests;

/// <summary>The built AppHost, run as a separate process on a data folder and edge URL of the test's choosing.</summary>
public sealed class AppHostProcess : IAsyncDisposable
{
    private readonly List<string> lines = [];

    private AppHostProcess(ChildProcess process, string dataDirectory, string edgeUrl, string dashboardUrl)
    {
        Process = process;
        DataDirectory = dataDirectory;
        EdgeUrl = edgeUrl;
        DashboardUrl = dashboardUrl;
    }

    public ChildProcess Process { get; }
    public string DataDirectory { get; }
    public string EdgeUrl { get; }
    /// <summary>Where the ops dashboard listens (a free port, so that tests never meet a developer's AppHost on 18888).</summary>
    public string DashboardUrl { get; }

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (lines)
            {
                return [.. lines];
            }
        }
    }

    /// <param name="environment">Further settings for the AppHost, e.g. the dashboard's telemetry window.</param>
    public static AppHostProcess Start(string dataDirectory, string edgeUrl, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var dashboardUrl = $"http://127.0.0.1:{FreePort.Next()}";
        var configuration = typeof(AppHostProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var dll = Path.Combine(RepositoryRoot(), "Gateway.AppHost", "bin", configuration, "net10.0", "Gateway.AppHost.dll");
        Assert.True(File.Exists(dll), $"{dll} is not built");
        var output = TestContext.Current.TestOutputHelper;
        AppHostProcess? host = null;
        var settings = new Dictionary<string, string?>
        {
            ["GATEWAY_DATA"] = dataDirectory,
            ["GATEWAY_EDGE_URL"] = edgeUrl,
            ["GATEWAY_DASHBOARD_URL"] = dashboardUrl,
            // Generated secrets go beside the test's data, not into the home folder.
            ["XDG_CONFIG_HOME"] = Path.Combine(Path.GetDirectoryName(dataDirectory)!, "config"),
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            settings[name] = value;
        }
        var process = ChildProcess.Start(new ChildProcessOptions("dotnet", [dll])
        {
            Label = "apphost",
            WorkingDirectory = RepositoryRoot(),
            Environment = settings,
            OnOutput = (line, _) =>
            {
                if (host is not null)
                {
                    lock (host.lines)
                    {
                        host.lines.Add(line);
                    }
                }
                try
                {
                    output?.WriteLine(line);
                }
                catch (InvalidOperationException)
                {
                    // The test has ended.
                }
            },
        });
        host = new AppHostProcess(process, dataDirectory, edgeUrl, dashboardUrl);
        return host;
    }

    /// <summary>Waits for a line containing <paramref name="text"/>; fails when the AppHost exits or time runs out.</summary>
    public async Task<string> WaitForLineAsync(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (Lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }
            if (Process.HasExited)
            {
                Assert.Fail($"The AppHost exited with code {Process.Exited.Result} before printing '{text}'.");
            }
            Assert.True(clock.Elapsed < timeout, $"The AppHost did not print '{text}' within {timeout.TotalSeconds:0} s.");
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>The children listed in the AppHost's pid file: label to pid.</summary>
    public IReadOnlyDictionary<string, int> ChildPids() =>
        File.ReadAllLines(Path.Combine(DataDirectory, "apphost.pids"))
            .Select(l => l.Split(' '))
            .Where(f => f.Length == 3 && f[0] != "apphost")
            .GroupBy(f => f[0])
            .ToDictionary(g => g.Key, g => int.Parse(g.First()[1]));

    /// <summary>Every process below the AppHost right now (servers, their workers, the services).</summary>
    public IReadOnlyList<ProcessEntry> Descendants()
    {
        var all = ProcessTable.All();
        var below = new Dictionary<int, ProcessEntry>();
        var frontier = new HashSet<int> { Process.Id };
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var entry in all)
            {
                if (!below.ContainsKey(entry.Pid) && (frontier.Contains(entry.ParentPid)))
                {
                    below[entry.Pid] = entry;
                    frontier.Add(entry.Pid);
                    grew = true;
                }
            }
        }
        return [.. below.Values.Where(e => e.State != 'Z')];
    }

    public async ValueTask DisposeAsync()
    {
        // A failed test must not leave a stack running: SIGTERM, then the AppHost's tree.
        var leftovers = Process.HasExited ? [] : Descendants();
        await Process.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(60));
        foreach (var entry in leftovers.Where(e => ProcessTable.IsAlive(e.Pid, e.StartTicks)))
        {
            Signals.Send(entry.Pid, Signals.SIGKILL);
        }
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }
}
