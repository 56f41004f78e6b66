using Gateway.Keys.ApiKeys;
using Gateway.Keys.Infrastructure;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Keys.Apis;

// The edge's lookup on a cache miss: who does the key with this hash belong to, if it still works.
// Not routed by the edge to the outside; only the edge's own caller token (amr=service) may call it.
public static class ApiKeyResolutionApi
{
    public static IEndpointRouteBuilder MapApiKeyResolutionApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/internal/api-keys/resolve", Resolve).WithTags("Internal").WithSummary("The edge learns whose a key is, if it still works.").RequireAuthorization(CallerPolicies.EdgeService);
        return app;
    }

    public sealed record ResolveApiKeyRequest(string? Hash);

    public sealed record ResolvedApiKey(Guid KeyId, Guid UserId, Guid? OrganizationId, DateTimeOffset? ExpiresAt);

    // One probe of the unique hash index, no tracking, the query compiled once.
    private static readonly Func<KeysDbContext, string, DateTimeOffset, CancellationToken, Task<ResolvedApiKey?>> FindActive =
        EF.CompileAsyncQuery((KeysDbContext db, string hash, DateTimeOffset now, CancellationToken _) => db.ApiKeys.AsNoTracking()
            .Where(k => k.Hash == hash && k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now))
            .Select(k => new ResolvedApiKey(k.Id, k.UserId, k.OrganizationId, k.ExpiresAt))
            .FirstOrDefault());

    // Revoked, expired and unknown keys are all the same 404.
    public static async Task<Results<Ok<ResolvedApiKey>, NotFound, ProblemHttpResult>> Resolve(
        ResolveApiKeyRequest request, KeysDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var hash = request.Hash?.ToLowerInvariant();
        if (!ApiKeySecret.IsHash(hash))
        {
            return ApiProblems.Invalid("hash", "The hash must be the hex SHA-256 of the whole key: 64 characters 0-9 and a-f.");
        }
        return await FindActive(db, hash!, time.GetUtcNow(), cancellationToken) is { } key
            ? TypedResults.Ok(key)
            : TypedResults.NotFound();
    }
}
