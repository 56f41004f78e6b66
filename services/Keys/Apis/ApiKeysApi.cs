using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text.Json.Serialization;
using Gateway.Keys.ApiKeys;
using Gateway.Keys.Infrastructure;
using Gateway.ServiceDefaults;
using Gateway.ServiceDefaults.Outbox;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Keys.Apis;

// A user's API keys (seed 000) and their default key (seed 004). The full key is in a response once,
// when it is created; afterwards only its masked form.
public static class ApiKeysApi
{
    public static IEndpointRouteBuilder MapApiKeysApi(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/api/keys").WithTags("API keys").RequireAuthorization(CallerPolicies.User);
        keys.MapGet("/", ListKeys).WithSummary("Lists your API keys, masked.");
        keys.MapPost("/", CreateKey).WithSummary("Creates an API key, shown in full only in this answer.");
        keys.MapDelete("/{id}", RevokeKey).WithSummary("Revokes an API key.");

        // Seed 004: POST creates the default key the first time, GET returns the same key (creating it too, if none).
        var defaultKey = app.MapGroup("/api/user/api-key").WithTags("API keys").RequireAuthorization(CallerPolicies.User);
        defaultKey.MapGet("/", GetDefaultKey).WithSummary("Your default API key, created on the first call and shown in full only then.");
        defaultKey.MapPost("/", CreateDefaultKey).WithSummary("Creates your default API key if you have none (201), else answers it masked.");

        return app;
    }

    public sealed record CreateApiKeyRequest([property: Required] string? Name, DateTimeOffset? ExpiresAt);

    public sealed record CreatedApiKeyResponse(Guid Id, string Name, string Key, string MaskedKey, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);

    public sealed record ApiKeyResponse(
        Guid Id, string Name, string MaskedKey, bool IsDefault, string Status,
        DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt)
    {
        public static ApiKeyResponse From(ApiKey key, DateTimeOffset now) => new(
            key.Id, key.Name, key.MaskedKey, key.IsDefault, key.Status(now), key.CreatedAt, key.LastUsedAt, key.ExpiresAt, key.RevokedAt);
    }

    // ApiKey is the full key only in the answer that created it; later answers cannot show it (only its hash is kept),
    // so ApiKey is null there, MaskedKey says which key it is and Note says why, in words. api_key and is_new repeat
    // ApiKey and IsNew under the names seed 004's dashboard reads.
    public sealed record DefaultApiKeyResponse(Guid Id, string? ApiKey, string MaskedKey, bool IsNew, DateTimeOffset CreatedAt, string Note)
    {
        [JsonPropertyName("api_key")]
        public string? SeedApiKey => ApiKey;

        [JsonPropertyName("is_new")]
        public bool SeedIsNew => IsNew;

        public static DefaultApiKeyResponse Created(ApiKey key, string secret) => new(
            key.Id, secret, key.MaskedKey, IsNew: true, key.CreatedAt,
            "This is the only time the whole key is shown: copy it now. Gateway keeps only its hash.");

        public static DefaultApiKeyResponse Existing(ApiKey key) => new(
            key.Id, ApiKey: null, key.MaskedKey, IsNew: false, key.CreatedAt,
            $"Your default key ({key.MaskedKey}) was shown in full only when it was created, and Gateway keeps only its hash, "
            + $"so it cannot be shown again. If you no longer have it, revoke it (DELETE /api/keys/{key.Id}) and ask again for a new one.");
    }

    public sealed record ApiKeyServices(KeysDbContext Db, ApiKeyIssuer Issuer, TimeProvider Time);

    // Active keys first, then expired, then revoked, each newest first; expired and revoked keys stay listed up to
    // this many in all.
    private const int MaxListed = 100;

    public static async Task<Ok<List<ApiKeyResponse>>> ListKeys(ClaimsPrincipal user, [AsParameters] ApiKeyServices services, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        var now = services.Time.GetUtcNow();
        var keys = await services.Db.ApiKeys.AsNoTracking()
            .Where(k => k.UserId == userId)
            // The order of ApiKey.Status: revoked whatever its expiry, else expired, else active.
            .OrderBy(k => k.RevokedAt != null ? 2 : k.ExpiresAt != null && k.ExpiresAt <= now ? 1 : 0)
            .ThenByDescending(k => k.CreatedAt)
            .Take(MaxListed)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(keys.Select(k => ApiKeyResponse.From(k, now)).ToList());
    }

    public static async Task<Results<Created<CreatedApiKeyResponse>, ProblemHttpResult>> CreateKey(
        CreateApiKeyRequest request, ClaimsPrincipal user, [AsParameters] ApiKeyServices services, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (ApiKeyRules.Name(request.Name) is { } badName) errors["name"] = [badName];
        if (ApiKeyRules.ExpiresAt(request.ExpiresAt, services.Time.GetUtcNow()) is { } badExpiry) errors["expiresAt"] = [badExpiry];
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }

        var issuance = await services.Issuer.IssueAsync(user.GetUserId(), user.GetOrganizationId(), request.Name!.Trim(), request.ExpiresAt, cancellationToken);
        return issuance switch
        {
            Issued(var key, var secret) => TypedResults.Created($"/api/keys/{key.Id}",
                new CreatedApiKeyResponse(key.Id, key.Name, secret, key.MaskedKey, key.CreatedAt, key.ExpiresAt)),
            LimitReached limit => LimitProblem(limit),
            _ => throw new InvalidOperationException($"Unexpected issuance {issuance}."),
        };
    }

    // Revoking a revoked key is a 204 again (the caller's intent holds); another user's key is a 404.
    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeKey(
        Guid id, ClaimsPrincipal user, [AsParameters] ApiKeyServices services, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        var key = await services.Db.ApiKeys.SingleOrDefaultAsync(k => k.Id == id && k.UserId == userId, cancellationToken);
        if (key is null)
        {
            return ApiProblems.NotFound("There is no such API key.");
        }
        if (key.Revoke(services.Time.GetUtcNow()) is { } revoked)
        {
            services.Db.AddToOutbox(revoked);
            try
            {
                await services.Db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException)
            {
                // Revoked meanwhile by a concurrent request, which published the event.
            }
        }
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<DefaultApiKeyResponse>, ProblemHttpResult>> GetDefaultKey(
        ClaimsPrincipal user, ApiKeyIssuer issuer, CancellationToken cancellationToken)
    {
        var issuance = await issuer.IssueDefaultAsync(user.GetUserId(), user.GetOrganizationId(), cancellationToken);
        return issuance switch
        {
            Issued(var key, var secret) => TypedResults.Ok(DefaultApiKeyResponse.Created(key, secret)),
            AlreadyIssued(var key) => TypedResults.Ok(DefaultApiKeyResponse.Existing(key)),
            LimitReached limit => LimitProblem(limit),
            _ => throw new InvalidOperationException($"Unexpected issuance {issuance}."),
        };
    }

    // The same as GET, answered 201 when this call created the key.
    public static async Task<Results<Created<DefaultApiKeyResponse>, Ok<DefaultApiKeyResponse>, ProblemHttpResult>> CreateDefaultKey(
        ClaimsPrincipal user, ApiKeyIssuer issuer, CancellationToken cancellationToken)
    {
        var issuance = await issuer.IssueDefaultAsync(user.GetUserId(), user.GetOrganizationId(), cancellationToken);
        return issuance switch
        {
            Issued(var key, var secret) => TypedResults.Created($"/api/keys/{key.Id}", DefaultApiKeyResponse.Created(key, secret)),
            AlreadyIssued(var key) => TypedResults.Ok(DefaultApiKeyResponse.Existing(key)),
            LimitReached limit => LimitProblem(limit),
            _ => throw new InvalidOperationException($"Unexpected issuance {issuance}."),
        };
    }

    private static ProblemHttpResult LimitProblem(LimitReached limit) =>
        TypedResults.Problem(
            detail: limit.Reason,
            statusCode: StatusCodes.Status409Conflict,
            title: "API key limit reached",
            extensions: new Dictionary<string, object?> { ["limit"] = limit.Limit, ["active"] = limit.Active });
}
