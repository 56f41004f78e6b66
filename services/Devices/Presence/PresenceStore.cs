using StackExchange.Redis;

namespace Gateway.Devices.Presence;

// Where devices were last heard from, in Redis: one sorted set (device id → last heartbeat, Unix ms) that
// the sweeper reads by age, and the last status payload of each device. Heartbeats never touch Postgres
// unless they change a device's status.
public sealed class PresenceStore(IConnectionMultiplexer redis)
{
    private const string LastSeenKey = "devices:presence";
    private static readonly TimeSpan StatusRetention = TimeSpan.FromDays(7);
    private static readonly RedisValue[] HeartbeatFields = ["version", "metrics"];

    // Records the heartbeat and returns the one before it (null when the device was not in the set).
    private static readonly LuaScript TouchScript = LuaScript.Prepare("""
        local previous = redis.call('ZSCORE', @key, @device)
        redis.call('ZADD', @key, @at, @device)
        return previous
        """);

    // Forgets a swept device unless it was heard from since.
    private static readonly LuaScript ForgetScript = LuaScript.Prepare("""
        local current = redis.call('ZSCORE', @key, @device)
        if current and tonumber(current) == tonumber(@at) then
            return redis.call('ZREM', @key, @device)
        end
        return 0
        """);

    private IDatabase Db => redis.GetDatabase();

    public async Task<DateTimeOffset?> TouchAsync(Guid deviceId, DateTimeOffset at, DeviceHeartbeat heartbeat)
    {
        var db = Db;
        var statusKey = StatusKey(deviceId);
        var previous = db.ScriptEvaluateAsync(TouchScript, new { key = (RedisKey)LastSeenKey, device = deviceId.ToString(), at = at.ToUnixTimeMilliseconds() });
        // A heartbeat without a version or metrics (a bare POST) keeps the ones last reported.
        List<HashEntry> fields = [new("at", at.ToUnixTimeMilliseconds())];
        if (heartbeat.Version is not null) fields.Add(new("version", heartbeat.Version));
        if (heartbeat.MetricsJson is not null) fields.Add(new("metrics", heartbeat.MetricsJson));
        var status = db.HashSetAsync(statusKey, [.. fields]);
        var expiry = db.KeyExpireAsync(statusKey, StatusRetention);
        await Task.WhenAll(previous, status, expiry);
        var result = await previous;
        return result.IsNull ? null : DateTimeOffset.FromUnixTimeMilliseconds((long)result);
    }

    public async Task<IReadOnlyList<(Guid DeviceId, DateTimeOffset LastSeen)>> SilentSinceAsync(DateTimeOffset cutoff, int take)
    {
        var entries = await Db.SortedSetRangeByScoreWithScoresAsync(LastSeenKey, double.NegativeInfinity, cutoff.ToUnixTimeMilliseconds(),
            Exclude.Stop, Order.Ascending, 0, take);
        return [.. entries.Select(e => (Guid.Parse(e.Element.ToString()), DateTimeOffset.FromUnixTimeMilliseconds((long)e.Score)))];
    }

    public async Task<DateTimeOffset?> LastSeenAsync(Guid deviceId) =>
        await Db.SortedSetScoreAsync(LastSeenKey, deviceId.ToString()) is { } score ? DateTimeOffset.FromUnixTimeMilliseconds((long)score) : null;

    public async Task<IReadOnlyDictionary<Guid, DateTimeOffset>> LastSeenAsync(IReadOnlyList<Guid> deviceIds)
    {
        if (deviceIds.Count == 0)
        {
            return new Dictionary<Guid, DateTimeOffset>();
        }
        var scores = await Db.SortedSetScoresAsync(LastSeenKey, [.. deviceIds.Select(id => (RedisValue)id.ToString())]);
        var seen = new Dictionary<Guid, DateTimeOffset>();
        for (var i = 0; i < deviceIds.Count; i++)
        {
            if (scores[i] is { } score)
            {
                seen[deviceIds[i]] = DateTimeOffset.FromUnixTimeMilliseconds((long)score);
            }
        }
        return seen;
    }

    public async Task<DeviceHeartbeat?> LastHeartbeatAsync(Guid deviceId)
    {
        var heartbeats = await LastHeartbeatsAsync([deviceId]);
        return heartbeats.GetValueOrDefault(deviceId);
    }

    // A page of devices' last heartbeats, in one pipelined round trip; devices never heard from are left out.
    public async Task<IReadOnlyDictionary<Guid, DeviceHeartbeat>> LastHeartbeatsAsync(IReadOnlyList<Guid> deviceIds)
    {
        var db = Db;
        var reads = deviceIds.Select(id => db.HashGetAsync(StatusKey(id), HeartbeatFields)).ToList();
        await Task.WhenAll(reads);
        var heartbeats = new Dictionary<Guid, DeviceHeartbeat>();
        for (var i = 0; i < deviceIds.Count; i++)
        {
            if (reads[i].Result is [var version, var metrics] && (version.HasValue || metrics.HasValue))
            {
                heartbeats[deviceIds[i]] = new DeviceHeartbeat(
                    version.IsNullOrEmpty ? null : version.ToString(), metrics.IsNullOrEmpty ? null : metrics.ToString());
            }
        }
        return heartbeats;
    }

    // Adds devices that are not in the set with the given last-seen time; a device that is keeps its own.
    public Task RestoreIfMissingAsync(IReadOnlyList<(Guid DeviceId, DateTimeOffset LastSeen)> devices) =>
        Db.SortedSetAddAsync(LastSeenKey, [.. devices.Select(d => new SortedSetEntry(d.DeviceId.ToString(), d.LastSeen.ToUnixTimeMilliseconds()))], SortedSetWhen.NotExists);

    public Task ForgetIfSilentAsync(Guid deviceId, DateTimeOffset lastSeen) =>
        Db.ScriptEvaluateAsync(ForgetScript, new { key = (RedisKey)LastSeenKey, device = deviceId.ToString(), at = lastSeen.ToUnixTimeMilliseconds() });

    public async Task ForgetAsync(Guid deviceId)
    {
        var db = Db;
        await Task.WhenAll(db.SortedSetRemoveAsync(LastSeenKey, deviceId.ToString()), db.KeyDeleteAsync(StatusKey(deviceId)));
    }

    private static RedisKey StatusKey(Guid deviceId) => $"devices:heartbeat:{deviceId}";
}

// What a device reports with a heartbeat: its software version and a few numbers (kept as JSON).
public sealed record DeviceHeartbeat(string? Version, string? MetricsJson);
