using System.Collections.Concurrent;

namespace Gateway.Devices.LiveEvents;

// The sockets this instance holds, by organisation. Broadcasting only queues (see LiveConnection), so one
// stalled client costs the others nothing.
public sealed class LiveEventHub(TimeProvider time)
{
    public const string SessionEndedReason = "The sign-in session has ended (signed out or revoked); sign in again.";

    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<LiveConnection, byte>> _byOrganization = new();
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<LiveConnection, byte>> _byUser = new();

    // Sessions that ended, until their last access token expires: a socket whose connection request passed the
    // edge just before the end was heard there, and registers here just after it was heard here, is closed too.
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _endedSessions = new();
    private DateTimeOffset _nextTrim;

    public int Count => _byOrganization.Values.Sum(c => c.Count);

    public int CountOf(Guid userId) => _byUser.TryGetValue(userId, out var own) ? own.Count : 0;

    public void Add(LiveConnection connection)
    {
        _byOrganization.GetOrAdd(connection.OrganizationId, _ => new()).TryAdd(connection, 0);
        _byUser.GetOrAdd(connection.UserId, _ => new()).TryAdd(connection, 0);
        // Checked after adding, as EndSession records before looking: one of the two always sees the other.
        if (connection.SessionId is { } session && _endedSessions.TryGetValue(session, out var until) && until > time.GetUtcNow())
        {
            connection.Drop(SessionEndedReason);
        }
    }

    public void Remove(LiveConnection connection)
    {
        if (_byOrganization.TryGetValue(connection.OrganizationId, out var connections))
        {
            connections.TryRemove(connection, out _);
        }
        if (_byUser.TryGetValue(connection.UserId, out var own))
        {
            own.TryRemove(connection, out _);
        }
    }

    public void Broadcast(Guid organizationId, LiveFrame frame)
    {
        if (_byOrganization.TryGetValue(organizationId, out var connections))
        {
            foreach (var connection in connections.Keys)
            {
                connection.Push(frame);
            }
        }
    }

    // An event for one user (their generations), to every socket they hold, whichever organisation it was opened for.
    public void SendToUser(Guid userId, LiveFrame frame)
    {
        if (_byUser.TryGetValue(userId, out var connections))
        {
            foreach (var connection in connections.Keys)
            {
                connection.Push(frame);
            }
        }
    }

    // A user who left an organisation (or was deleted) stops hearing about it at once.
    public void DropUser(Guid userId, Guid? exceptOrganizationId, string reason)
    {
        foreach (var (organizationId, connections) in _byOrganization)
        {
            if (organizationId == exceptOrganizationId)
            {
                continue;
            }
            foreach (var connection in connections.Keys.Where(c => c.UserId == userId))
            {
                connection.Drop(reason);
            }
        }
    }

    // Signed out, its refresh token reused, or the account removed: the edge refuses the session's access tokens
    // from now on, and its sockets, authorised once when they opened, close here.
    public void EndSession(Guid sessionId, DateTimeOffset accessTokensValidUntil)
    {
        _endedSessions[sessionId] = accessTokensValidUntil;
        // Expired entries go once a minute, not on every event (a sweep is a pass over all of them).
        var now = time.GetUtcNow();
        if (now >= _nextTrim)
        {
            _nextTrim = now.AddMinutes(1);
            foreach (var (ended, until) in _endedSessions)
            {
                if (until <= now) _endedSessions.TryRemove(ended, out _);
            }
        }
        foreach (var connections in _byOrganization.Values)
        {
            foreach (var connection in connections.Keys.Where(c => c.SessionId == sessionId))
            {
                connection.Drop(SessionEndedReason);
            }
        }
    }
}
