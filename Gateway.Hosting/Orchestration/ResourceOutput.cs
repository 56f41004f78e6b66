using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting.Orchestration;

/// <summary>
/// Everything the AppHost prints, one line at a time with the resource's name in front, and the last lines of
/// every resource kept in memory for a dashboard.
/// </summary>
public sealed class ResourceOutput(int nameWidth, bool verbose)
{
    private const int LinesKept = 2000;
    private readonly ConcurrentDictionary<string, Queue<LogLine>> buffers = new(StringComparer.OrdinalIgnoreCase);
    private long sequence;

    /// <summary>The AppHost's own news about a resource (starting, ready, exited).</summary>
    public void Event(string resource, string text) => Add(resource, LogKind.Event, text, print: true);

    /// <summary>A line the resource's process wrote.</summary>
    public void Line(string resource, string text, bool isError) => Add(resource, isError ? LogKind.Stderr : LogKind.Stdout, text, print: true);

    /// <summary>A server's chatter: kept, printed only when verbose.</summary>
    public void Debug(string resource, string text) => Add(resource, LogKind.Debug, text, print: verbose);

    /// <summary>Text that belongs to no resource: the table, the closing summary.</summary>
    public static void Raw(string text) => Console.Out.WriteLine(text);

    /// <summary>The kept lines of a resource, oldest first; with <paramref name="after"/>, only those that came later.</summary>
    public IReadOnlyList<LogLine> Lines(string resource, long after = 0)
    {
        if (!buffers.TryGetValue(resource, out var buffer))
        {
            return [];
        }
        lock (buffer)
        {
            return [.. buffer.Where(line => line.Sequence > after)];
        }
    }

    public ILogger Logger(string resource) => new ResourceLogger(this, resource);

    private void Add(string resource, LogKind kind, string text, bool print)
    {
        var buffer = buffers.GetOrAdd(resource, _ => new Queue<LogLine>());
        LogLine line;
        lock (buffer)
        {
            line = new LogLine(Interlocked.Increment(ref sequence), DateTimeOffset.Now, kind, text);
            buffer.Enqueue(line);
            if (buffer.Count > LinesKept)
            {
                buffer.Dequeue();
            }
        }
        if (print)
        {
            var separator = kind == LogKind.Event ? "  " : "| ";
            Console.Out.WriteLine($"{line.Time:HH:mm:ss.f} {resource.PadRight(nameWidth)} {separator}{text}");
        }
    }

    /// <summary>The ILogger a server is given: Debug and below are its output, Information and above are events.</summary>
    private sealed class ResourceLogger(ResourceOutput output, string resource) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = formatter(state, exception);
            switch (logLevel)
            {
                case LogLevel.Trace or LogLevel.Debug:
                    output.Debug(resource, text);
                    break;
                case LogLevel.Information:
                    output.Event(resource, text);
                    break;
                default:
                    output.Event(resource, $"{logLevel.ToString().ToLowerInvariant()}: {text}");
                    break;
            }
        }
    }
}
