using Microsoft.Extensions.Logging;

namespace Gateway.Hosting.Tests;

/// <summary>Sends a server's log (its output included) to the running test's output, shown when the test fails.</summary>
internal sealed class TestLogger : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {logLevel}: {formatter(state, exception)}");
        }
        catch (InvalidOperationException)
        {
            // The test has already ended; a server's late output has nowhere to go.
        }
    }
}
