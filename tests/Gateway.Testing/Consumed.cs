using MassTransit;

namespace Gateway.Testing;

// Watches a service's own bus (its host runs in the test process) and tells when it has finished consuming
// messages, successfully or not: the event a test waits for before it checks that a repeat did no harm.
public sealed class Consumed : IConsumeObserver, IDisposable
{
    private readonly List<object> _done = [];
    private readonly ConnectHandle _handle;

    private Consumed(IBus bus) => _handle = bus.ConnectConsumeObserver(this);

    public static Consumed Watch(IBus bus) => new(bus);

    // Waits until count messages of type T that match have been consumed (15 s unless said); answers how many were.
    public Task<int> CountAsync<T>(Func<T, bool> match, int count, TimeSpan? within = null) where T : class =>
        Eventually.UntilAsync(() => Task.FromResult(Count(match)), n => n >= count, within);

    private int Count<T>(Func<T, bool> match) where T : class
    {
        lock (_done)
        {
            return _done.OfType<T>().Count(match);
        }
    }

    private Task Done<T>(ConsumeContext<T> context) where T : class
    {
        lock (_done)
        {
            _done.Add(context.Message);
        }
        return Task.CompletedTask;
    }

    Task IConsumeObserver.PreConsume<T>(ConsumeContext<T> context) => Task.CompletedTask;

    Task IConsumeObserver.PostConsume<T>(ConsumeContext<T> context) => Done(context);

    Task IConsumeObserver.ConsumeFault<T>(ConsumeContext<T> context, Exception exception) => Done(context);

    public void Dispose() => _handle.Disconnect();
}
