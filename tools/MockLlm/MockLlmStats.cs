using System.Collections.Concurrent;

namespace Gateway.MockLlm;

// What the mock has been asked, for tests that must prove what reached (or never reached) the model.
public sealed class MockLlmStats
{
    private int _requests;
    private int _cancelled;
    private readonly ConcurrentQueue<string> _bodies = new();

    public int Requests => _requests;

    // Streams the caller abandoned before the answer was complete.
    public int Cancelled => _cancelled;

    // The most recent request bodies (JSON), newest last.
    public IReadOnlyList<string> Bodies => [.. _bodies];

    internal void Received(string body)
    {
        Interlocked.Increment(ref _requests);
        _bodies.Enqueue(body);
        while (_bodies.Count > 100 && _bodies.TryDequeue(out _))
        {
        }
    }

    internal void Abandoned() => Interlocked.Increment(ref _cancelled);
}
