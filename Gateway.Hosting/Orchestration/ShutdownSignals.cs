using System.Runtime.InteropServices;
using Gateway.Hosting.Processes;

namespace Gateway.Hosting.Orchestration;

/// <summary>
/// Ctrl+C, SIGTERM and SIGHUP ask for an orderly stop; a second one while stopping kills every child at once.
/// </summary>
internal sealed class ShutdownSignals : IDisposable
{
    private readonly CancellationTokenSource requested;
    private readonly List<PosixSignalRegistration> registrations = [];
    private int count;

    private ShutdownSignals(CancellationToken outer, ProcessScope processes, ResourceOutput output)
    {
        requested = CancellationTokenSource.CreateLinkedTokenSource(outer);
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
        {
            registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                if (Interlocked.Increment(ref count) == 1)
                {
                    output.Event("apphost", $"{context.Signal}: stopping everything (again to kill at once)");
                    requested.Cancel();
                }
                else
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
