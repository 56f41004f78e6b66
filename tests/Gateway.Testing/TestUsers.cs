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

        return SignedIn(system, JsonDocument.Parse(body).RootElement, email);
    }

    // Invites a new user into the owner's organisation with the role and accepts through the invitation mail's
    // link (written into the system's mail folder); needs Identity among the system's services.
    public static async Task<TestUser> InviteAsync(this GatewaySystem system, TestUser owner, string role)
    {
        var email = $"{role}-{Guid.NewGuid():N}@example.com";
        using var invite = await owner.Client.PostAsJsonAsync("/api/users/invite", new { email, role });
        if (!invite.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Inviting {email} failed with {(int)invite.StatusCode}: {await invite.Content.ReadAsStringAsync()}");
        }
        var token = system.Mail.InvitationToken(email);
        using var anonymous = system.CreateEdgeClient();
        using var accept = await anonymous.PostAsJsonAsync("/api/auth/accept-invite", new { token, password = Password });
        var body = await accept.Content.ReadAsStringAsync();
        if (!accept.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Accepting the invitation for {email} failed with {(int)accept.StatusCode}: {body}");
        }
        return SignedIn(system, JsonDocument.Parse(body).RootElement, email);
    }

    // A user from Identity's session answer ({user, accessToken, refreshToken}), with a client carrying the token.
    private static TestUser SignedIn(GatewaySystem system, JsonElement session, string email)
    {
        var user = session.GetProperty("user");
        var accessToken = session.GetProperty("accessToken").GetString()!;
        var client = system.CreateEdgeClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return new TestUser(user.GetProperty("id").GetGuid(), user.GetProperty("organizationId").GetGuid(), email, Password, accessToken,
            session.GetProperty("refreshToken").GetString()!, client);
    }
}
