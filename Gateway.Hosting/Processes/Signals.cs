using System.Runtime.InteropServices;

namespace Gateway.Hosting.Processes;

/// <summary>POSIX signals through libc: .NET can only SIGKILL a process, and servers need SIGTERM/SIGINT to stop cleanly.</summary>
public static class Signals
{
    public const int SIGHUP = 1;
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    /// <summary>Sends <paramref name="signal"/> to a process (pid &gt; 0) or a whole process group (negative pid). False when nothing received it.</summary>
    public static bool Send(int pid, int signal) => kill(pid, signal) == 0;

    /// <summary>True while a process with this pid exists (zombies included, until reaped).</summary>
    public static bool Exists(int pid) => kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() == EPERM;

    public static bool IsRoot => geteuid() == 0;

    private const int EPERM = 1;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    [DllImport("libc")]
    private static extern uint geteuid();
}
