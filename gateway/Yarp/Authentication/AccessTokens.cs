using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Edge.Authentication;

// Users' access tokens are checked here, against the keys Identity publishes as a JWKS: fetched through
// service discovery, cached, and fetched again (at most every few seconds) when a token names a key id
// the cache does not know, which is how a rotated key is picked up.
public static class AccessTokens
{
    public const string Scheme = JwtBearerDefaults.AuthenticationScheme;
    private const string JwksClient = "identity-jwks";
    private const string LiveEventsPath = "/api/events";

    // Any Authorization header goes to the handler, which answers an opaque bearer with no result.
    public static bool ArePresented(HttpRequest request) =>
        request.Headers.Authorization.Count > 0 || QueryToken(request) is not null;

    private static string? QueryToken(HttpRequest request) =>
        request.Path.StartsWithSegments(LiveEventsPath) && request.Query["access_token"] is [{ Length: > 0 } token] ? token : null;

    public static AuthenticationBuilder AddAccessTokens(this AuthenticationBuilder authentication, IConfiguration configuration)
    {
        var settings = configuration.GetSection("Edge:AccessTokens");
        var issuer = settings["Issuer"] ?? "gateway-identity";
        var audience = settings["Audience"] ?? "gateway";
        var jwksUrl = settings["JwksUrl"] ?? "http://identity/.well-known/jwks.json";

        authentication.Services.AddHttpClient(JwksClient);
        authentication.AddJwtBearer(Scheme, _ => { });
        authentication.Services.AddOptions<JwtBearerOptions>(Scheme)
            .Configure<IHttpClientFactory, EndedSessions>((options, clients, endedSessions) =>
            {
                options.MapInboundClaims = false;
                options.RefreshOnIssuerKeyNotFound = true;
                options.Events = new JwtBearerEvents
                {
                    // Only JWT-shaped bearers are access tokens; an opaque one (a refresh token sent to
                    // /api/auth/refresh, as seed 003 does) passes through untouched.
                    OnMessageReceived = context =>
                    {
                        // Browsers cannot set headers on a WebSocket: the live channel takes ?access_token=.
                        if (QueryToken(context.Request) is { } queryToken)
                        {
                            context.Token = queryToken;
                            return Task.CompletedTask;
                        }
                        var authorization = context.Request.Headers.Authorization.ToString();
                        if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                            || authorization.AsSpan("Bearer ".Length).Count('.') != 2)
                        {
                            context.NoResult();
                        }
                        return Task.CompletedTask;
                    },
                    // A signed-out session's tokens are refused before they expire (EndedSessions).
                    OnTokenValidated = context =>
                    {
                        if (Guid.TryParse(context.Principal?.FindFirst("sid")?.Value, out var session) && endedSessions.HasEnded(session))
                        {
                            context.Fail(new CredentialRefusedException("This sign-in session has ended (signed out, its refresh token reused, or the account removed); sign in again."));
                        }
                        return Task.CompletedTask;
                    },
                };
                options.ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
                    jwksUrl,
                    new JwksRetriever(),
                    new HttpDocumentRetriever(clients.CreateClient(JwksClient)) { RequireHttps = false })
                {
                    AutomaticRefreshInterval = TimeSpan.FromMinutes(10),
                    RefreshInterval = TimeSpan.FromSeconds(5),
                };
                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = issuer,
                    ValidAudience = audience,
                    ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
                    NameClaimType = "sub",
                    RoleClaimType = "role",
                    ClockSkew = TimeSpan.FromSeconds(30),
                };
            });
        return authentication;
    }

    // Identity publishes a bare JWKS rather than an OpenID discovery document.
    private sealed class JwksRetriever : IConfigurationRetriever<OpenIdConnectConfiguration>
    {
        public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
        {
            var document = await retriever.GetDocumentAsync(address, cancel);
            var configuration = new OpenIdConnectConfiguration();
            foreach (var key in new JsonWebKeySet(document).GetSigningKeys())
            {
                configuration.SigningKeys.Add(key);
            }
            return configuration;
        }
    }
}
