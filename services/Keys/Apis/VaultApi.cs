using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Gateway.Keys.Infrastructure;
using Gateway.Keys.Vault;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Gateway.Keys.Apis;

// The secrets vault (seed 002): values encrypted at rest and write-only; names unique per user.
public static class VaultApi
{
    public static IEndpointRouteBuilder MapVaultApi(this IEndpointRouteBuilder app)
    {
        var vault = app.MapGroup("/api/vault").WithTags("Vault").RequireAuthorization(CallerPolicies.User);
        vault.MapGet("/", ListSecrets).WithSummary("Lists your vault's secrets, values masked.");
        vault.MapPost("/", CreateSecret).WithSummary("Stores a secret, encrypted; its value is never shown again.");
        vault.MapDelete("/{id}", DeleteSecret).WithSummary("Deletes a secret.");
        // Seed 002's dashboard deletes with DELETE /api/vault?id=…
        vault.MapDelete("/", DeleteSecretById).WithSummary("Deletes the secret named by ?id=.");

        // Chat, serving a caller's request for a model whose provider takes the caller's own key (bring your own key),
        // reads that key here with the caller's token it was given. Internal: the edge routes no /internal/* path, and a
        // caller reads only their own secret.
        app.MapPost("/internal/vault/reveal", RevealSecret).WithTags("Internal").WithSummary("Chat reads a caller's own provider key, for that caller.").RequireAuthorization(CallerPolicies.UserOrKey);

        return app;
    }

    // Seed 002's dashboard sends the secret's name as "key"; both present, they must agree.
    public sealed record CreateSecretRequest(string? Name, string? Key, [property: Required] string? Value);

    public sealed record RevealSecretRequest([property: Required] string? Name);

    public sealed record RevealedSecret(string Value);

    public sealed record SecretResponse(Guid Id, string Name, string MaskedValue, DateTimeOffset CreatedAt)
    {
        public static SecretResponse From(VaultSecret secret) => new(secret.Id, secret.Name, VaultSecret.Mask, secret.CreatedAt);
    }

    public sealed record VaultServices(KeysDbContext Db, SecretCipher Cipher, IOptions<VaultOptions> Options, TimeProvider Time);

    public static async Task<Ok<List<SecretResponse>>> ListSecrets(ClaimsPrincipal user, KeysDbContext db, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        var secrets = await db.VaultSecrets.AsNoTracking()
            .Where(s => s.UserId == userId)
            .OrderBy(s => s.Name)
            .Select(s => new SecretResponse(s.Id, s.Name, VaultSecret.Mask, s.CreatedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(secrets);
    }

    public static async Task<Results<Created<SecretResponse>, ProblemHttpResult>> CreateSecret(
        CreateSecretRequest request, ClaimsPrincipal user, [AsParameters] VaultServices services, CancellationToken cancellationToken)
    {
        var name = request.Name ?? request.Key;
        var errors = new Dictionary<string, string[]>();
        if (VaultRules.Name(name) is { } badName) errors[request.Name is null && request.Key is not null ? "key" : "name"] = [badName];
        if (request.Name is not null && request.Key is not null && request.Name != request.Key)
        {
            errors["name"] = ["The fields 'name' and 'key' are one field (the secret's name) and differ; send one of them."];
        }
        if (VaultRules.Value(request.Value) is { } badValue) errors["value"] = [badValue];
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }

        var userId = user.GetUserId();
        var db = services.Db;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LockUserAsync(UserLock.Vault, userId, cancellationToken);
        var held = await db.VaultSecrets.CountAsync(s => s.UserId == userId, cancellationToken);
        var limit = services.Options.Value.MaxSecretsPerUser;
        if (held >= limit)
        {
            return ApiProblems.Problem(StatusCodes.Status409Conflict, "Vault limit reached",
                $"Vault limit reached: {held} of {limit} secrets. Delete a secret to store another.");
        }

        var secret = VaultSecret.Create(userId, name!.Trim(), request.Value!, services.Cipher, services.Time.GetUtcNow());
        db.VaultSecrets.Add(secret);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return ApiProblems.Conflict("name", $"A secret named '{secret.Name}' already exists; delete it first to replace it.");
        }
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Created($"/api/vault/{secret.Id}", SecretResponse.From(secret));
    }

    // Deleting is final: a second delete of the same secret is a 404, as is another user's secret.
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteSecret(
        Guid id, ClaimsPrincipal user, KeysDbContext db, CancellationToken cancellationToken) =>
        await DeleteAsync(db, user.GetUserId(), id, cancellationToken) ? TypedResults.NoContent() : NoSuchSecret();

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteSecretById(
        Guid? id, ClaimsPrincipal user, KeysDbContext db, CancellationToken cancellationToken)
    {
        if (id is not { } secretId)
        {
            return ApiProblems.Invalid("id", "The id of the secret to delete is required: DELETE /api/vault?id=… or /api/vault/{id}.");
        }
        return await DeleteAsync(db, user.GetUserId(), secretId, cancellationToken) ? TypedResults.NoContent() : NoSuchSecret();
    }

    public static async Task<Results<Ok<RevealedSecret>, ProblemHttpResult>> RevealSecret(
        RevealSecretRequest request, ClaimsPrincipal user, KeysDbContext db, SecretCipher cipher, CancellationToken cancellationToken)
    {
        if (VaultRules.Name(request.Name) is { } badName)
        {
            return ApiProblems.Invalid("name", badName);
        }
        var userId = user.GetUserId();
        var name = request.Name!.Trim();
        var secret = await db.VaultSecrets.AsNoTracking().FirstOrDefaultAsync(s => s.UserId == userId && s.Name == name, cancellationToken);
        return secret is null
            ? NoSuchSecret()
            : TypedResults.Ok(new RevealedSecret(cipher.Decrypt(secret.Ciphertext, secret.UserId, secret.Id)));
    }

    private static async Task<bool> DeleteAsync(KeysDbContext db, Guid userId, Guid id, CancellationToken cancellationToken) =>
        await db.VaultSecrets.Where(s => s.Id == id && s.UserId == userId).ExecuteDeleteAsync(cancellationToken) > 0;

    private static ProblemHttpResult NoSuchSecret() => ApiProblems.NotFound("There is no such secret.");
}
