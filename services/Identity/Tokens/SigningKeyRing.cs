using System.Security.Cryptography;
using Gateway.Identity.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Identity.Tokens;

// The signing keys in memory, reloaded from the database so that replicas converge on the same ring. A new key
// is published at once but signs only once it is PublishAhead old, by when every replica has reloaded and
// publishes it too: whichever replica the edge fetches the JWKS from knows every key a token can name.
public sealed class SigningKeyRing(IServiceScopeFactory scopes, IOptions<TokenIssuanceOptions> options, TimeProvider time, ILogger<SigningKeyRing> logger)
{
    // Well over the interval at which every replica reloads the ring (SigningKeyRotation.Interval).
    public static readonly TimeSpan PublishAhead = TimeSpan.FromMinutes(5);

    // Replicas making a key at the same moment take turns under this lock, so they make one.
    private const string KeyLock = "SELECT pg_advisory_xact_lock(hashtext('identity.signing_keys'))";

    private volatile Snapshot? _snapshot;

    public SigningCredentials Current => Loaded.Credentials;

    public IReadOnlyList<ECDsaSecurityKey> PublishedKeys => Loaded.Published;

    private Snapshot Loaded => _snapshot ?? throw new InvalidOperationException("The signing key ring has not been loaded yet.");

    private byte[]? KeyEncryptionKey => options.Value.KeyEncryptionKey is { Length: > 0 } key ? Convert.FromBase64String(key) : null;

    // Loads the ring, making the next key first when there is none or the newest is due for rotation.
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AccountsDbContext>();
        var keys = await NewestFirstAsync(db, cancellationToken);
        if (NextKeyDue(keys))
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await db.Database.ExecuteSqlRawAsync(KeyLock, cancellationToken);
            keys = await NewestFirstAsync(db, cancellationToken);
            if (NextKeyDue(keys))
            {
                keys.Insert(0, await AddKeyAsync(db, cancellationToken));
            }
            await transaction.CommitAsync(cancellationToken);
        }
        _snapshot = Build(keys);
    }

    // Makes the next key now rather than when rotation is due; it signs once PublishAhead old.
    public async Task RotateAsync(CancellationToken cancellationToken)
    {
        await using (var scope = scopes.CreateAsyncScope())
        {
            await AddKeyAsync(scope.ServiceProvider.GetRequiredService<AccountsDbContext>(), cancellationToken);
        }
        await RefreshAsync(cancellationToken);
    }

    // The key that signs: the newest at least PublishAhead old, or the very first key, which no replica can
    // have missed as each loads the ring before it serves. Published: every key from the newest down to the
    // signer, and an older one while tokens it signed can live (until its successor began signing, plus their
    // lifetime and a margin for clocks).
    public static (SigningKey Signer, List<SigningKey> Published) Choose(IReadOnlyList<SigningKey> newestFirst, DateTimeOffset now, TimeSpan accessTokenLifetime)
    {
        var signer = newestFirst.FirstOrDefault(k => k.CreatedAt + PublishAhead <= now) ?? newestFirst[^1];
        var keepFor = accessTokenLifetime + TimeSpan.FromMinutes(5);
        var published = new List<SigningKey>();
        for (var i = 0; i < newestFirst.Count; i++)
        {
            if (newestFirst[i].CreatedAt >= signer.CreatedAt || now - (newestFirst[i - 1].CreatedAt + PublishAhead) < keepFor)
            {
                published.Add(newestFirst[i]);
            }
        }
        return (signer, published);
    }

    // Made PublishAhead before the newest is due to retire, so that it can take over on time.
    private bool NextKeyDue(List<SigningKey> newestFirst) =>
        newestFirst.Count == 0 || newestFirst[0].CreatedAt + options.Value.SigningKeyRotation - PublishAhead <= time.GetUtcNow();

    private static Task<List<SigningKey>> NewestFirstAsync(AccountsDbContext db, CancellationToken cancellationToken) =>
        db.SigningKeys.AsNoTracking().OrderByDescending(k => k.CreatedAt).ToListAsync(cancellationToken);

    private async Task<SigningKey> AddKeyAsync(AccountsDbContext db, CancellationToken cancellationToken)
    {
        var key = SigningKey.Create(KeyEncryptionKey, time.GetUtcNow());
        db.SigningKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Created signing key {KeyId} (encrypted at rest: {Encrypted}), published now; it signs from {SignsFrom:u}, or now if it is the first",
            key.Id, key.Encrypted, key.CreatedAt + PublishAhead);
        return key;
    }

    private Snapshot Build(List<SigningKey> newestFirst)
    {
        var (signer, published) = Choose(newestFirst, time.GetUtcNow(), options.Value.AccessTokenLifetime);
        var keys = published.Select(Open).ToList();
        return new Snapshot(new SigningCredentials(keys.Single(k => k.KeyId == signer.Id), SecurityAlgorithms.EcdsaSha256), keys);
    }

    private ECDsaSecurityKey Open(SigningKey key) => _snapshot?.Published.FirstOrDefault(k => k.KeyId == key.Id)
        ?? new ECDsaSecurityKey(key.Open(KeyEncryptionKey)) { KeyId = key.Id };

    private sealed record Snapshot(SigningCredentials Credentials, IReadOnlyList<ECDsaSecurityKey> Published);
}

// Loads the ring before the service listens, then keeps it fresh and rotates it when due.
public sealed class SigningKeyRotation(SigningKeyRing ring, ILogger<SigningKeyRotation> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await ring.RefreshAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await ring.RefreshAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not CryptographicException)
            {
                logger.LogWarning("Refreshing the signing key ring failed, keeping the current one: {Reason}", ex.Message);
            }
        }
    }
}
