using System.Collections.Concurrent;

namespace Gateway.Devices.LiveEvents;

// The sockets this instance holds, by organisation. Broadcasting only queues (see LiveConnection), so one
// stalled client costs the others nothing.
public sealed class LiveEventHub
{
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<LiveConnection, byte>> _byOrganization = new();

    public int Count => _byOrganization.Values.Sum(c => c.Count);

    public void Add(LiveConnection connection) =>
        _byOrganization.GetOrAdd(connection.OrganizationId, _ => new()).TryAdd(connection, 0);

    public void Remove(LiveConnection connection)
    {
        if (_byOrganization.TryGetValue(connection.OrganizationId, out var connections))
        {
            connections.TryRemove(connection, out _);
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
}
