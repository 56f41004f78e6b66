using System.Collections.Concurrent;
using Gateway.Contracts;
using MassTransit;
using StackExchange.Redis;

namespace Gateway.Edge.Authentication;

// Sign-in sessions that ended before their access tokens expired (logout, a reused refresh token, a removed
// account): a token naming one (`sid`) is refused. Every replica hears SessionEnded on its own queue and keeps
// the set in memory, checked on every access token without a round trip; the set is also kept in Redis, so a
// replica that starts later learns what ended before it. Each entry lasts until the session's last access
// token would have expired anyway. No MAC on the set, unlike the key cache: a member planted in Redis can
// only refuse a session, never admit one (and one deleted, which no MAC prevents, is the outage case below).
public sealed class EndedSessions(IConnectionMultiplexer redis, TimeProvider time, ILogger<EndedSessions> logger) : BackgroundService
{
    private const string RedisKey = "edge:ended-sessions";
    private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30); // as the token validation allows
    private static readonly TimeSpan RetryLoadEvery = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan TrimEvery = TimeSpan.FromMinutes(1);
    private static readonly double LatestScore = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _ended = new();
    private DateTimeOffset _nextTrim;

    public bool HasEnded(Guid sessionId) => _ended.TryGetValue(sessionId, out var until) && until > time.GetUtcNow();

    public async Task EndAsync(SessionEnded ended)
    {
        var until = ended.AccessTokensValidUntil + ClockSkew;
        _ended[ended.SessionId] = until;
        Trim();
        try
        {
            var database = redis.GetDatabase();
            await database.SortedSetAddAsync(RedisKey, ended.SessionId.ToString(), until.ToUnixTimeMilliseconds());
            await database.SortedSetRemoveRangeByScoreAsync(RedisKey, double.NegativeInfinity, time.GetUtcNow().ToUnixTimeMilliseconds());
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // This replica refuses the session already; one that starts during the outage will not know it.
            logger.LogWarning("Could not record ended session {SessionId} in Redis: {Reason}", ended.SessionId, ex.Message);
        }
    }

    // At start: what ended while this replica was not listening. Retried until Redis answers.
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var now = time.GetUtcNow().ToUnixTimeMilliseconds();
                foreach (var entry in await redis.GetDatabase().SortedSetRangeByScoreWithScoresAsync(RedisKey, now, double.PositiveInfinity))
                {
                    if (Guid.TryParse(entry.Element.ToString(), out var sessionId))
                    {
                        // A score past what a date can hold was not written by an edge; it must not stop this one.
                        var until = entry.Score >= LatestScore ? DateTimeOffset.MaxValue : DateTimeOffset.FromUnixTimeMilliseconds((long)entry.Score);
                        _ended.TryAdd(sessionId, until);
                    }
                }
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                logger.LogWarning("Could not read the ended sessions from Redis, retrying: {Reason}", ex.Message);
                await Task.Delay(RetryLoadEvery, time, stoppingToken);
            }
        }
    }

    // Expired entries are dropped once a minute, not on every event (a sweep is a pass over all of them).
    private void Trim()
    {
        var now = time.GetUtcNow();
        if (now < _nextTrim)
        {
            return;
        }
        _nextTrim = now + TrimEvery;
        foreach (var (sessionId, until) in _ended)
        {
            if (until <= now) _ended.TryRemove(sessionId, out _);
        }
    }
}

// On every edge replica's own queue, as ApiKeyRevoked.
public sealed class SessionEndedConsumer(EndedSessions sessions) : IConsumer<SessionEnded>
{
    public Task Consume(ConsumeContext<SessionEnded> context) => sessions.EndAsync(context.Message);
}
