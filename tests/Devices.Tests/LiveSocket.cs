using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using Gateway.ServiceDefaults;

namespace Devices.Tests;

// A dashboard's live connection: reads every message in the background and lets a test wait for one.
public sealed class LiveSocket : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly List<JsonElement> _received = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly Task _reading;

    private LiveSocket(ClientWebSocket socket)
    {
        _socket = socket;
        _reading = Task.Run(ReadAsync);
    }

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public string? CloseReason => _socket.CloseStatusDescription;

    public Task Completion => _reading;

    public IReadOnlyList<JsonElement> Received
    {
        get { lock (_received) return [.. _received]; }
    }

    public IReadOnlyList<JsonElement> Events(string type) => [.. Received.Where(e => e.GetProperty("type").GetString() == type)];

    // Through the edge, with the user's access token in the Authorization header.
    public static Task<LiveSocket> ConnectAsync(IServiceHost edge, TestUser user, long? lastEventId = null) =>
        ConnectAsync(edge.Address, socket => socket.Options.SetRequestHeader("Authorization", $"Bearer {user.AccessToken}"), lastEventId);

    // Straight to one Devices instance, with the caller token the edge would have sent.
    public static Task<LiveSocket> ConnectDirectAsync(IServiceHost devices, string callerToken, long? lastEventId = null) =>
        ConnectAsync(devices.Address, socket => socket.Options.SetRequestHeader(CallerAuthentication.HeaderName, callerToken), lastEventId);

    // A client that connects and then never reads, with a tiny receive buffer so it stalls quickly.
    public static async Task<ClientWebSocket> ConnectStalledAsync(IServiceHost devices, string callerToken)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        var client = new ClientWebSocket();
        client.Options.SetRequestHeader(CallerAuthentication.HeaderName, callerToken);
        await client.ConnectAsync(Url(devices.Address, null), new HttpMessageInvoker(handler), Api.Ct);
        return client;
    }

    private static async Task<LiveSocket> ConnectAsync(Uri address, Action<ClientWebSocket> authenticate, long? lastEventId)
    {
        var socket = new ClientWebSocket();
        authenticate(socket);
        await socket.ConnectAsync(Url(address, lastEventId), Api.Ct);
        var live = new LiveSocket(socket);
        // The server says hello once the replay (if any) is sent: from then on nothing is missed.
        await live.NextAsync(e => e.GetProperty("type").GetString() == "connected");
        return live;
    }

    public static Uri Url(Uri address, long? lastEventId) =>
        new(new UriBuilder(address) { Scheme = "ws" }.Uri, lastEventId is { } id ? $"/api/events?lastEventId={id}" : "/api/events");

    // The first message received (earlier ones included) that matches, within the time given.
    public async Task<JsonElement> NextAsync(Func<JsonElement, bool> match, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var ended = _reading.IsCompleted;
            var found = Received.FirstOrDefault(match);
            if (found.ValueKind != JsonValueKind.Undefined)
            {
                return found;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || ended)
            {
                Assert.Fail($"No matching live event within the time; received: {string.Join(", ", Received.Select(e => e.GetRawText()[..Math.Min(200, e.GetRawText().Length)]))}");
            }
            await _arrived.WaitAsync(left < TimeSpan.FromMilliseconds(250) ? left : TimeSpan.FromMilliseconds(250), Api.Ct);
        }
    }

    public Task<JsonElement> NextAsync(string type, Guid? about = null, TimeSpan? within = null) =>
        NextAsync(e => e.GetProperty("type").GetString() == type && (about is null || Mentions(e, about.Value)), within);

    private static bool Mentions(JsonElement e, Guid id) => e.GetProperty("data").GetRawText().Contains(id.ToString(), StringComparison.OrdinalIgnoreCase);

    private async Task ReadAsync()
    {
        var buffer = new byte[1 << 20];
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var length = 0;
                WebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }
                    result = await _socket.ReceiveAsync(new ArraySegment<byte>(buffer, length, buffer.Length - length), CancellationToken.None);
                    length += result.Count;
                } while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                var message = JsonDocument.Parse(buffer.AsMemory(0, length)).RootElement.Clone();
                lock (_received) _received.Add(message);
                _arrived.Release();
            }
        }
        catch (WebSocketException)
        {
            // Aborted by the server or by DisposeAsync.
        }
        catch (ObjectDisposedException)
        {
        }
        _arrived.Release();
    }

    public async Task CloseAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }
        await Task.WhenAny(_reading, Task.Delay(5_000, CancellationToken.None));
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _socket.Abort();
        _socket.Dispose();
    }
}
