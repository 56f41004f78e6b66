namespace Gateway.Faults.Tests;

/// <summary>
/// The whole system through the real AppHost, once for its test class; every process it started is gone after. A class
/// fixture, not the assembly's: ReplicaTests' replicated system must not run beside an idle one on a two-core machine.
/// </summary>
public class RunningSystem : IAsyncLifetime
{
    public FaultSystem System { get; private set; } = null!;

    protected virtual Task<FaultSystem> StartAsync() =>
        FaultSystem.StartAsync(line => TestContext.Current.SendDiagnosticMessage(line), TestContext.Current.CancellationToken);

    public async ValueTask InitializeAsync() => System = await StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (System is null) return; // it never started
        await System.DisposeAsync();
        if (System.LeftBehind.Count > 0)
        {
            throw new InvalidOperationException($"Processes still running 30 s after the system stopped (killed now): {string.Join(", ", System.LeftBehind)}");
        }
    }
}
