using System.Threading.Channels;

namespace Gateway.Devices.LiveEvents;

// One dashboard's socket as the hub sees it: a bounded queue the hub writes to without ever waiting.
// A queue that is full means the client is not reading; it is dropped rather than slowing anybody else.
public sealed class LiveConnection(Guid userId, Guid organizationId, Guid? sessionId, int buffer) : IDisposable
{
    private readonly Channel<LiveFrame> _frames = Channel.CreateBounded<LiveFrame>(
        new BoundedChannelOptions(buffer) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource _dropped = new();

    public Guid UserId { get; } = userId;
    public Guid OrganizationId { get; } = organizationId;
    // The sign-in session whose access token opened the socket: it is closed when that session ends.
    public Guid? SessionId { get; } = sessionId;
    public ChannelReader<LiveFrame> Frames => _frames.Reader;
    public CancellationToken Dropped => _dropped.Token;
    public string? DropReason { get; private set; }

    public void Push(LiveFrame frame)
    {
        if (!_frames.Writer.TryWrite(frame))
        {
            Drop("The client fell behind; reconnect with lastEventId to resume.");
        }
    }

    public void Drop(string reason)
    {
        DropReason ??= reason;
        _frames.Writer.TryComplete();
        try { _dropped.Cancel(); } catch (ObjectDisposedException) { }
    }

    public void Dispose() => _dropped.Dispose();
}
