using Gateway.Identity.Tokens;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Identity.Apis;

// The public halves of the signing keys, for the edge and the services to check access tokens with.
public static class JwksApi
{
    public static IEndpointRouteBuilder MapJwksApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/jwks.json", GetKeys).WithTags("Keys").WithSummary("The public keys that access tokens are signed with.");
        return app;
    }

    public sealed record Jwk(string Kty, string Use, string Alg, string Kid, string Crv, string X, string Y);
    public sealed record JwksResponse(IReadOnlyList<Jwk> Keys);

    public static Ok<JwksResponse> GetKeys(SigningKeyRing ring, HttpResponse response)
    {
        response.Headers.CacheControl = "public, max-age=60";
        var keys = ring.PublishedKeys.Select(key =>
        {
            var parameters = key.ECDsa.ExportParameters(includePrivateParameters: false);
            return new Jwk("EC", "sig", SecurityAlgorithms.EcdsaSha256, key.KeyId, "P-256",
                Base64UrlEncoder.Encode(parameters.Q.X), Base64UrlEncoder.Encode(parameters.Q.Y));
        }).ToList();
        return TypedResults.Ok(new JwksResponse(keys));
    }
}
