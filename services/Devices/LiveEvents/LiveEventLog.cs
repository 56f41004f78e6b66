using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.Devices.LiveEvents;

// The recent events of each organisation in Redis: a counter that gives each event its id, and a sorted
// set (id → event JSON) trimmed to the replay limit and window. Every instance records every event it
// receives; the message id makes the second recording of an event return the first one's id, so all
// instances push the same id for the same event.
public sealed class LiveEventLog(IConnectionMultiplexer redis, IOptions<LiveEventOptions> options, TimeProvider time)
{
    private static readonly LuaScript AppendScript = LuaScript.Prepare("""
        local existing = redis.call('GET', @messageKey)
        if existing then
            return tonumber(existing)
        end
        local id = redis.call('INCR', @counterKey)
        redis.call('ZADD', @logKey, id, '{"id":' .. id .. ',' .. string.sub(@body, 2))
        redis.call('ZREMRANGEBYRANK', @logKey, 0, -(tonumber(@limit) + 1))
        redis.call('PEXPIRE', @logKey, @windowMs)
        redis.call('SET', @messageKey, id, 'PX', @windowMs)
        return id
        """);

    private IDatabase Db => redis.GetDatabase();

    public async Task<LiveFrame> AppendAsync(Guid messageId, LiveEvent evt)
    {
        var body = evt.ToJsonWithoutId();
        var keys = Keys.For(evt.OrganizationId);
        var result = await Db.ScriptEvaluateAsync(AppendScript, new
        {
            messageKey = (RedisKey)$"{keys.Prefix}:message:{messageId}",
            counterKey = (RedisKey)keys.Counter,
            logKey = (RedisKey)keys.Log,
            body,
            limit = options.Value.ReplayLimit,
            windowMs = (long)options.Value.ReplayWindow.TotalMilliseconds,
        });
        var id = (long)result;
        return new LiveFrame(id, Encoding.UTF8.GetBytes($"{{\"id\":{id},{body[1..]}"));
    }

    // The id of the organisation's latest event (0 before the first).
    public async Task<long> LatestIdAsync(Guid organizationId) =>
        await Db.StringGetAsync(Keys.For(organizationId).Counter) is { IsNull: false } value ? (long)value : 0;

    // The events after lastEventId still within the window, oldest first; Complete is false when some
    // that the client missed are no longer kept, or when lastEventId is ahead of Latest (an id never sent, or
    // one from before Redis lost the log).
    public async Task<(IReadOnlyList<LiveFrame> Frames, bool Complete, long Latest)> ReadAfterAsync(Guid organizationId, long lastEventId)
    {
        var entries = await Db.SortedSetRangeByScoreWithScoresAsync(Keys.For(organizationId).Log, lastEventId, double.PositiveInfinity, Exclude.Start);
        var oldestKept = time.GetUtcNow() - options.Value.ReplayWindow;
        var frames = new List<LiveFrame>(entries.Length);
        foreach (var entry in entries)
        {
            var json = (string)entry.Element!;
            if (At(json) >= oldestKept)
            {
                frames.Add(new LiveFrame((long)entry.Score, Encoding.UTF8.GetBytes(json)));
            }
        }
        var latest = await LatestIdAsync(organizationId);
        var expectedFirst = lastEventId + 1;
        var complete = latest == lastEventId || (frames.Count > 0 && frames[0].Id == expectedFirst);
        return (frames, complete, latest);
    }

    private static DateTimeOffset At(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("at").GetDateTimeOffset();
    }

    private sealed record Keys(string Prefix)
    {
        // The hash tag keeps one organisation's keys on one Redis Cluster slot, as the script needs.
        public static Keys For(Guid organizationId) => new($"live:{{{organizationId}}}");
        public string Counter => $"{Prefix}:counter";
        public string Log => $"{Prefix}:log";
    }
}
