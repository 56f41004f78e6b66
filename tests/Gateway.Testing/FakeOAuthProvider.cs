using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Testing;

// A small OAuth 2.0 authorization server over real HTTP on 127.0.0.1, standing in for GitHub (Identity.Tests, Console.Tests): it
// approves every authorization for the person the test says is signing in, issues single-use codes
// bound to the redirect URI and the PKCE challenge, and serves that person's profile.
public sealed class FakeOAuthProvider : IAsyncDisposable
{
    public const string ClientId = "test-client";
    public const string ClientSecret = "test-secret";

    private readonly ConcurrentDictionary<string, PendingCode> _codes = new();
    private readonly ConcurrentDictionary<string, Person> _tokens = new();
    private WebApplication _app = null!;

    public sealed record Person(string Id, string? Email, string Name, IReadOnlyList<(string Email, bool Primary, bool Verified)>? Emails = null);

    private sealed record PendingCode(Person Person, string RedirectUri, string? Challenge)
    {
        public bool Used { get; set; }
    }

    public Uri Address { get; private set; } = null!;

    // Who approves the next authorization.
    public Person SigningIn { get; set; } = new("0", "nobody@example.com", "Nobody");

    public static async Task<FakeOAuthProvider> StartAsync()
    {
        var provider = new FakeOAuthProvider();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        provider._app = builder.Build();
        provider.Map(provider._app);
        await provider._app.StartAsync();
        var address = provider._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        provider.Address = new Uri(address);
        return provider;
    }

    public Dictionary<string, string?> Settings(string name) => new()
    {
        [$"Identity:OAuth:Providers:{name}:ClientId"] = ClientId,
        [$"Identity:OAuth:Providers:{name}:ClientSecret"] = ClientSecret,
        [$"Identity:OAuth:Providers:{name}:AuthorizationEndpoint"] = new Uri(Address, "/authorize").ToString(),
        [$"Identity:OAuth:Providers:{name}:TokenEndpoint"] = new Uri(Address, "/token").ToString(),
        [$"Identity:OAuth:Providers:{name}:UserInfoEndpoint"] = new Uri(Address, "/user").ToString(),
        [$"Identity:OAuth:Providers:{name}:EmailsEndpoint"] = new Uri(Address, "/user/emails").ToString(),
    };

    private void Map(WebApplication app)
    {
        app.MapGet("/authorize", (HttpRequest request) =>
        {
            var query = request.Query;
            if (query["client_id"] != ClientId || query["response_type"] != "code")
            {
                return Results.BadRequest();
            }
            var code = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            _codes[code] = new PendingCode(SigningIn, query["redirect_uri"]!, query["code_challenge"]);
            return Results.Redirect($"{query["redirect_uri"]}?code={code}&state={Uri.EscapeDataString(query["state"]!)}");
        });

        app.MapPost("/token", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync();
            if (form["client_id"] != ClientId || form["client_secret"] != ClientSecret)
            {
                return Results.Json(new { error = "invalid_client" }, statusCode: 401);
            }
            if (!_codes.TryGetValue(form["code"].ToString(), out var pending) || pending.Used || pending.RedirectUri != form["redirect_uri"])
            {
                return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
            }
            pending.Used = true;
            if (pending.Challenge is not null && pending.Challenge != Challenge(form["code_verifier"].ToString()))
            {
                return Results.Json(new { error = "invalid_grant", error_description = "PKCE verification failed" }, statusCode: 400);
            }
            var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            _tokens[token] = pending.Person;
            return Results.Json(new { access_token = token, token_type = "bearer" });
        });

        app.MapGet("/user", (HttpRequest request) =>
            WhoIs(request) is { } person ? Results.Json(new { id = long.Parse(person.Id), login = $"user{person.Id}", name = person.Name, email = person.Email }) : Results.Unauthorized());

        app.MapGet("/user/emails", (HttpRequest request) =>
            WhoIs(request) is { } person
                ? Results.Json((person.Emails ?? []).Select(e => new { email = e.Email, primary = e.Primary, verified = e.Verified }))
                : Results.Unauthorized());
    }

    private Person? WhoIs(HttpRequest request) =>
        request.Headers.Authorization.ToString() is { } header && header.StartsWith("Bearer ") && _tokens.TryGetValue(header[7..], out var person)
            ? person
            : null;

    private static string Challenge(string verifier) =>
        Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
