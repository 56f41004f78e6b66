using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Gateway.Devices.LiveEvents;

// Serves one dashboard's socket: replays what it missed (?lastEventId=), says hello, then sends the
// organisation's events as they come, until the client leaves, stalls or outlives its authorisation.
public sealed class LiveEventStream(LiveEventHub hub, LiveEventLog log, IOptions<LiveEventOptions> options, TimeProvider time, ILogger<LiveEventStream> logger)
{
    private const string LifetimeReason = "Reconnect with a fresh access token and lastEventId to resume.";

    public async Task RunAsync(WebSocket socket, Guid userId, Guid organizationId, Guid? sessionId, long? lastEventId, CancellationToken requestAborted)
    {
        var settings = options.Value;
        using var connection = new LiveConnection(userId, organizationId, sessionId, settings.ConnectionBuffer);
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, connection.Dropped);
        lifetime.CancelAfter(settings.MaxConnectionLifetime);
        // Registered before the replay is read, so nothing falls between the replay and the live events.
        hub.Add(connection);
        var receiving = ReceiveUntilClosedAsync(socket, lifetime, requestAborted);
        try
        {
            long replayedUpTo = 0;
            if (lastEventId is { } last)
            {
                var (frames, complete, latestKept) = await log.ReadAfterAsync(organizationId, last);
                if (!complete)
                {
                    var reason = last > latestKept
                        ? $"lastEventId is ahead of the latest event ({latestKept}); reload the current state."
                        : "Some events since lastEventId are no longer kept; reload the current state.";
                    await SendAsync(socket, Control("resync", new { lastEventId = last, reason }), lifetime.Token);
                }
                foreach (var frame in frames)
                {
                    await SendAsync(socket, frame.Utf8Json, lifetime.Token);
                    replayedUpTo = frame.Id;
                }
                // Never past the latest event: an id from the future would silence every event up to it.
                replayedUpTo = Math.Max(replayedUpTo, Math.Min(last, latestKept));
            }
            var latest = lastEventId is null ? await log.LatestIdAsync(organizationId) : replayedUpTo;
            await SendAsync(socket, Control("connected", new { lastEventId = latest }), lifetime.Token);

            // Events go out in id order, each once. Instances give ids as each reaches an event first, so this
            // instance can receive a later id before an earlier one (seen with two instances): a gap is filled from
            // the log, where an id is written as it is given, and an event already sent that way is not sent again.
            var sentUpTo = latest;
            await foreach (var frame in connection.Frames.ReadAllAsync(lifetime.Token))
            {
                if (frame.Id > 0 && frame.Id <= sentUpTo)
                {
                    continue;
                }
                if (frame.Id > sentUpTo + 1 && sentUpTo > 0)
                {
                    foreach (var missed in await MissedAsync(organizationId, sentUpTo, frame.Id))
                    {
                        await SendAsync(socket, missed.Utf8Json, lifetime.Token);
                    }
                }
                await SendAsync(socket, frame.Utf8Json, lifetime.Token);
                sentUpTo = Math.Max(sentUpTo, frame.Id);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // The client left, was dropped, or its time was up: handled below.
        }
        finally
        {
            hub.Remove(connection);
            await CloseAsync(socket, connection.DropReason, requestAborted.IsCancellationRequested);
            try
            {
                await receiving.WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None);
            }
            catch (TimeoutException)
            {
                // No answer to our close: a dead client.
                socket.Abort();
            }
        }
    }

    // The organisation's events after one id and before another, from the log; none when Redis cannot say (the gap
    // then stays, as it would have without the log).
    private async Task<IEnumerable<LiveFrame>> MissedAsync(Guid organizationId, long after, long before)
    {
        try
        {
            var (frames, _, _) = await log.ReadAfterAsync(organizationId, after);
            return frames.Where(f => f.Id < before);
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
        {
            logger.LogWarning("Live events {After}–{Before} could not be read to fill a gap: {Reason}", after, before, ex.Message);
            return [];
        }
    }

    private async Task SendAsync(WebSocket socket, ReadOnlyMemory<byte> utf8Json, CancellationToken cancellationToken)
    {
        // A send that cannot complete in time is a stalled client; cancelling it aborts the socket.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.SendTimeout);
        await socket.SendAsync(utf8Json, WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
    }

    private ReadOnlyMemory<byte> Control(string type, object data) =>
        JsonSerializer.SerializeToUtf8Bytes(new { id = (long?)null, type, data, at = time.GetUtcNow() }, LiveEvent.Json);

    // Dashboards only listen; whatever they send is read and ignored, and a close ends the stream. Not
    // cancelled with the stream (a cancelled receive aborts the socket before it can be closed politely).
    private static async Task ReceiveUntilClosedAsync(WebSocket socket, CancellationTokenSource lifetime, CancellationToken requestAborted)
    {
        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, requestAborted);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }
        finally
        {
            try { await lifetime.CancelAsync(); } catch (ObjectDisposedException) { }
        }
    }

    private async Task CloseAsync(WebSocket socket, string? dropReason, bool clientGone)
    {
        if (clientGone || socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            // The client closed first: its close is answered as it was sent. Otherwise the stream's time was up, or it was dropped.
            var (status, reason) = socket.State == WebSocketState.CloseReceived && dropReason is null
                ? (socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, "")
                : dropReason is null
                ? (WebSocketCloseStatus.NormalClosure, LifetimeReason)
                : (WebSocketCloseStatus.PolicyViolation, dropReason);
            await socket.CloseOutputAsync(status, Truncate(reason), timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            logger.LogDebug("Closing a live socket failed: {Reason}", ex.Message);
        }
    }

    // A close reason is at most 123 bytes.
    private static string Truncate(string reason) => Encoding.UTF8.GetByteCount(reason) <= 123 ? reason : reason[..100];
}
