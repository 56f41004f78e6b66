using System.Security.Cryptography;
using Gateway.Identity.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Identity.Tokens;

// The signing keys in memory: the newest signs, every key whose tokens may still be alive validates and
// is published. Reloaded from the database periodically so replicas converge on the same ring.
public sealed class SigningKeyRing(IServiceScopeFactory scopes, IOptions<TokenIssuanceOptions> options, ILogger<SigningKeyRing> logger)
{
    private volatile Snapshot? _snapshot;

    public SigningCredentials Current => Loaded.Credentials;

    public IReadOnlyList<ECDsaSecurityKey> PublishedKeys => Loaded.Published;

    private Snapshot Loaded => _snapshot ?? throw new InvalidOperationException("The signing key ring has not been loaded yet.");

    private byte[]? KeyEncryptionKey => options.Value.KeyEncryptionKey is { Length: > 0 } key ? Convert.FromBase64String(key) : null;

    // Loads the ring, creating a key first when there is none or the newest is due for rotation.
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AccountsDbContext>();
        var keys = await db.SigningKeys.OrderByDescending(k => k.CreatedAt).ToListAsync(cancellationToken);

        if (keys.Count == 0 || keys[0].CreatedAt + options.Value.SigningKeyRotation < DateTimeOffset.UtcNow)
        {
            // Two replicas racing here each add a key; both get published and the newer signs: harmless.
            var key = SigningKey.Create(KeyEncryptionKey);
            db.SigningKeys.Add(key);
            await db.SaveChangesAsync(cancellationToken);
            keys.Insert(0, key);
            logger.LogInformation("Created signing key {KeyId} (encrypted at rest: {Encrypted})", key.Id, key.Encrypted);
        }

        _snapshot = Build(keys);
    }

    public async Task RotateAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AccountsDbContext>();
        db.SigningKeys.Add(SigningKey.Create(KeyEncryptionKey));
        await db.SaveChangesAsync(cancellationToken);
        await RefreshAsync(cancellationToken);
    }

    private Snapshot Build(List<SigningKey> newestFirst)
    {
        // A key retired when its successor appeared stays published while its last tokens can live.
        var keepFor = options.Value.AccessTokenLifetime + TimeSpan.FromMinutes(5);
        var published = new List<ECDsaSecurityKey>();
        for (var i = 0; i < newestFirst.Count; i++)
        {
            if (i == 0 || DateTimeOffset.UtcNow - newestFirst[i - 1].CreatedAt < keepFor)
            {
                published.Add(Open(newestFirst[i]));
            }
        }
        return new Snapshot(new SigningCredentials(published[0], SecurityAlgorithms.EcdsaSha256), published);
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
