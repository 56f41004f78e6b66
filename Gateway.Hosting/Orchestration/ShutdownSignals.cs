using System.Runtime.InteropServices;
using Gateway.Hosting.Processes;

namespace Gateway.Hosting.Orchestration;

/// <summary>
/// Ctrl+C, SIGTERM and SIGHUP ask for an orderly stop; another one while stopping kills every child at once. Signals
/// within the first two seconds count as one: `dotnet run` and `timeout` pass theirs on while the terminal or the
/// process group delivers the same one directly.
/// </summary>
internal sealed class ShutdownSignals : IDisposable
{
    private static readonly TimeSpan SameSignal = TimeSpan.FromSeconds(2);
    private readonly CancellationTokenSource requested;
    private readonly List<PosixSignalRegistration> registrations = [];
    private long firstAt;

    private ShutdownSignals(CancellationToken outer, ProcessScope processes, ResourceOutput output)
    {
        requested = CancellationTokenSource.CreateLinkedTokenSource(outer);
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
        {
            registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                var now = Environment.TickCount64;
                if (Interlocked.CompareExchange(ref firstAt, now, 0) == 0)
                {
                    output.Event("apphost", $"{context.Signal}: stopping everything (again to kill at once)");
                    requested.Cancel();
                }
                else if (now - Interlocked.Read(ref firstAt) > SameSignal.TotalMilliseconds)
                {
                    output.Event("apphost", $"{context.Signal} again: killing every child process now");
                    processes.KillAll();
                    Environment.Exit(130);
                }
            }));
        }
    }

    public CancellationToken Token => requested.Token;

    public static ShutdownSignals Register(CancellationToken outer, ProcessScope processes, ResourceOutput output) => new(outer, processes, output);

    public void Dispose()
    {
        foreach (var registration in registrations)
        {
            registration.Dispose();
        }
        requested.Dispose();
    }
}
