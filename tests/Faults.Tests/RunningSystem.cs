namespace Gateway.Faults.Tests;

/// <summary>The whole system through the real AppHost, once for the assembly; every process it started is gone after.</summary>
public sealed class RunningSystem : IAsyncLifetime
{
    public FaultSystem System { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        System = await FaultSystem.StartAsync(line => TestContext.Current.SendDiagnosticMessage(line), TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await System.DisposeAsync();
        if (System.LeftBehind.Count > 0)
        {
            throw new InvalidOperationException($"Processes still running 30 s after the system stopped (killed now): {string.Join(", ", System.LeftBehind)}");
        }
    }
}
