using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Gateway.Testing;

// A user who signed up through the edge, with a client that carries their access token.
public sealed record TestUser(Guid UserId, Guid OrganizationId, string Email, string Password, string AccessToken, string RefreshToken, HttpClient Client);

public static class TestUsers
{
    public const string Password = "correct-Horse-9";

    // Needs Identity among the system's services.
    public static async Task<TestUser> RegisterUserAsync(this GatewaySystem system, string? email = null, string? name = null)
    {
        email ??= $"user-{Guid.NewGuid():N}@example.com";
        using var anonymous = system.CreateEdgeClient();
        using var response = await anonymous.PostAsJsonAsync("/api/auth/register", new { email, password = Password, name = name ?? "Test User" });
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Registering {email} failed with {(int)response.StatusCode}: {body}");
        }

        var json = JsonDocument.Parse(body).RootElement;
        var user = json.GetProperty("user");
        var accessToken = json.GetProperty("accessToken").GetString()!;
        var client = system.CreateEdgeClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return new TestUser(
            user.GetProperty("id").GetGuid(),
            user.GetProperty("organizationId").GetGuid(),
            email,
            Password,
            accessToken,
            json.GetProperty("refreshToken").GetString()!,
            client);
    }
}
