using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Identity.Tests;

// One Identity service and the edge in front of it, shared by the tests of a class; each test uses its
// own e-mail addresses, so tests do not see each other's accounts.
public sealed class IdentitySystem(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    public GatewaySystem System { get; private set; } = null!;

    public IServiceProvider Identity => System[GatewayService.Identity].Provider;

    public async ValueTask InitializeAsync() =>
        System = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity]);

    public ValueTask DisposeAsync() => System.DisposeAsync();

    public HttpClient Edge() => System.CreateEdgeClient();
}

public sealed record Session(string AccessToken, string RefreshToken, DateTimeOffset ExpiresAt, JsonElement User)
{
    public Guid UserId => User.GetProperty("id").GetGuid();
    public Guid OrganizationId => User.GetProperty("organizationId").GetGuid();
}

public static class Api
{
    public const string Password = "correct horse 42";

    public static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static string NewEmail(string who = "user") => $"{who}-{Guid.NewGuid():N}@example.com";

    public static async Task<Session> RegisterAsync(this HttpClient edge, string? email = null, string password = Password, string? name = null)
    {
        using var response = await edge.PostAsJsonAsync("/api/auth/register", new { email = email ?? NewEmail(), password, name }, Cancel);
        await response.ShouldBe(HttpStatusCode.Created);
        return (await response.Content.ReadFromJsonAsync<Session>(Cancel))!;
    }

    public static async Task<Session> LoginAsync(this HttpClient edge, string email, string password = Password)
    {
        using var response = await edge.PostAsJsonAsync("/api/auth/login", new { email, password }, Cancel);
        await response.ShouldBe(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<Session>(Cancel))!;
    }

    public static HttpRequestMessage Request(HttpMethod method, string url, string? accessToken, object? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (accessToken is not null)
        {
            request.Headers.Authorization = new("Bearer", accessToken);
        }
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        return request;
    }

    public static async Task<HttpResponseMessage> SendAsync(this HttpClient edge, HttpMethod method, string url, string? accessToken, object? body = null)
    {
        using var request = Request(method, url, accessToken, body);
        return await edge.SendAsync(request, Cancel);
    }

    public static Task<HttpResponseMessage> GetAsync(this HttpClient edge, string url, string accessToken) =>
        edge.SendAsync(HttpMethod.Get, url, accessToken);

    public static Task<HttpResponseMessage> PostAsync(this HttpClient edge, string url, string? accessToken, object? body) =>
        edge.SendAsync(HttpMethod.Post, url, accessToken, body);

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
}
