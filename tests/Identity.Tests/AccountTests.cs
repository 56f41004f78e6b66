using System.Net;
using System.Net.Http.Json;
using System.Text;
using static Identity.Tests.Api;

namespace Identity.Tests;

public sealed class AccountTests(IdentitySystem identity) : IClassFixture<IdentitySystem>
{
    [Fact]
    public async Task Register_returns_the_user_and_tokens_that_open_me()
    {
        using var edge = identity.Edge();
        var email = NewEmail();

        var session = await edge.RegisterAsync(email, name: "Ada");
        using var me = await edge.GetAsync("/api/auth/me", session.AccessToken);

        await me.ShouldBe(HttpStatusCode.OK);
        var body = await me.JsonAsync();
        Assert.Equal(session.UserId, body.GetProperty("id").GetGuid());
        Assert.Equal(email, body.GetProperty("email").GetString());
        Assert.Equal("Ada", body.GetProperty("name").GetString());
        Assert.Equal("owner", body.GetProperty("role").GetString());
        Assert.Equal(session.OrganizationId, body.GetProperty("organizationId").GetGuid());
        Assert.True(session.ExpiresAt > DateTimeOffset.UtcNow);
    }

    [Theory]
    [InlineData("not-an-email")]
    [InlineData("two@@example.com")]
    [InlineData("")]
    public async Task Register_with_a_malformed_email_names_the_field(string email)
    {
        using var edge = identity.Edge();

        using var response = await edge.PostAsJsonAsync("/api/auth/register", new { email, password = Password }, Cancel);

        await response.ShouldBeProblem(HttpStatusCode.BadRequest, "email");
    }

    [Theory]
    [InlineData("short1")]
    [InlineData("nodigitsatall")]
    public async Task Register_with_a_weak_password_names_the_field(string password)
    {
        using var edge = identity.Edge();

        using var response = await edge.PostAsJsonAsync("/api/auth/register", new { email = NewEmail(), password }, Cancel);

        await response.ShouldBeProblem(HttpStatusCode.BadRequest, "password");
    }

    [Fact]
    public async Task Register_with_a_taken_email_in_any_case_is_a_conflict()
    {
        using var edge = identity.Edge();
        var email = NewEmail();
        await edge.RegisterAsync(email);

        using var response = await edge.PostAsJsonAsync("/api/auth/register", new { email = email.ToUpperInvariant(), password = Password }, Cancel);

        await response.ShouldBeProblem(HttpStatusCode.Conflict, "email");
    }

    [Fact]
    public async Task Register_with_an_oversized_name_names_the_field()
    {
        using var edge = identity.Edge();

        using var response = await edge.PostAsJsonAsync("/api/auth/register", new { email = NewEmail(), password = Password, name = new string('n', 101) }, Cancel);

        await response.ShouldBeProblem(HttpStatusCode.BadRequest, "name");
    }

    [Fact]
    public async Task A_line_break_in_a_name_is_a_400_naming_the_field_wherever_the_name_is_set()
    {
        using var edge = identity.Edge();
        using var register = await edge.PostAsJsonAsync("/api/auth/register",
            new { email = NewEmail(), password = Password, name = "Mal\r\nBcc: victim@example.com" }, Cancel);
        var problem = await register.ShouldBeProblem(HttpStatusCode.BadRequest, "name");
        Assert.Contains("control characters", problem.GetProperty("detail").GetString());

        // An organisation's name goes into the invitations its members send: a forged line there would carry a link.
        var owner = await edge.RegisterAsync();
        using var organization = await edge.SendAsync(HttpMethod.Patch, "/api/organization/profile", owner.AccessToken,
            new { name = "Acme\nAccept here: http://evil.example/x" });
        await organization.ShouldBeProblem(HttpStatusCode.BadRequest, "name");
        using var profile = await edge.SendAsync(HttpMethod.Patch, "/api/user", owner.AccessToken, new { name = "Al\u0007ice" });
        await profile.ShouldBeProblem(HttpStatusCode.BadRequest, "name");
        // An interest goes into the assistant's instructions to the model.
        using var interests = await edge.SendAsync(HttpMethod.Patch, "/api/user", owner.AccessToken, new { assistant = new { interests = new[] { "sailing", "a\nb" } } });
        await interests.ShouldBeProblem(HttpStatusCode.BadRequest, "assistant.interests");
    }

    [Fact]
    public async Task A_nul_character_in_a_name_or_an_email_is_a_400_naming_the_field()
    {
        using var edge = identity.Edge();

        using var register = await edge.PostAsJsonAsync("/api/auth/register", new { email = NewEmail(), password = Password, name = "a\0b" }, Cancel);
        using var login = await edge.PostAsJsonAsync("/api/auth/login", new { email = "a\0b@example.com", password = Password }, Cancel);

        var problem = await register.ShouldBeProblem(HttpStatusCode.BadRequest, "name");
        Assert.Contains("NUL", problem.GetProperty("detail").GetString());
        await login.ShouldBeProblem(HttpStatusCode.BadRequest, "email");
    }

    [Fact]
    public async Task Malformed_json_is_a_400_naming_the_field()
    {
        using var edge = identity.Edge();
        using var content = new StringContent("""{"email": 42, "password": "x"}""", Encoding.UTF8, "application/json");

        using var response = await edge.PostAsync("/api/auth/register", content, Cancel);

        var problem = await response.ShouldBeProblem(HttpStatusCode.BadRequest);
        Assert.Contains("email", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_oversized_body_is_refused_before_it_is_read()
    {
        using var edge = identity.Edge();
        using var content = new StringContent($$"""{"email": "a@example.com", "password": "{{new string('p', 200_000)}}"}""", Encoding.UTF8, "application/json");

        using var response = await edge.PostAsync("/api/auth/register", content, Cancel);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Login_returns_a_working_session()
    {
        using var edge = identity.Edge();
        var email = NewEmail();
        var registered = await edge.RegisterAsync(email);

        var session = await edge.LoginAsync(email.ToUpperInvariant());
        using var me = await edge.GetAsync("/api/auth/me", session.AccessToken);

        await me.ShouldBe(HttpStatusCode.OK);
        Assert.Equal(registered.UserId, (await me.JsonAsync()).GetProperty("id").GetGuid());
        Assert.NotEqual(registered.RefreshToken, session.RefreshToken);
    }

    [Fact]
    public async Task A_wrong_password_and_an_unknown_email_get_the_same_401()
    {
        using var edge = identity.Edge();
        var email = NewEmail();
        await edge.RegisterAsync(email);

        using var wrongPassword = await edge.PostAsJsonAsync("/api/auth/login", new { email, password = "wrong password 1" }, Cancel);
        using var unknownEmail = await edge.PostAsJsonAsync("/api/auth/login", new { email = NewEmail(), password = Password }, Cancel);

        var first = await wrongPassword.ShouldBeProblem(HttpStatusCode.Unauthorized);
        var second = await unknownEmail.ShouldBeProblem(HttpStatusCode.Unauthorized);
        Assert.Equal(first.GetProperty("detail").GetString(), second.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Repeated_failed_logins_lock_the_account_and_say_when_to_retry()
    {
        using var edge = identity.Edge();
        var email = NewEmail();
        await edge.RegisterAsync(email);

        for (var attempt = 1; attempt < 5; attempt++)
        {
            using var failed = await edge.PostAsJsonAsync("/api/auth/login", new { email, password = "wrong password 1" }, Cancel);
            await failed.ShouldBe(HttpStatusCode.Unauthorized);
        }
        using var fifth = await edge.PostAsJsonAsync("/api/auth/login", new { email, password = "wrong password 1" }, Cancel);
        using var rightPassword = await edge.PostAsJsonAsync("/api/auth/login", new { email, password = Password }, Cancel);

        await fifth.ShouldBeProblem(HttpStatusCode.Locked);
        var problem = await rightPassword.ShouldBeProblem(HttpStatusCode.Locked);
        Assert.InRange(problem.GetProperty("retryAfterSeconds").GetInt32(), 200, 300);
        Assert.NotNull(rightPassword.Headers.RetryAfter);
    }

    [Fact]
    public async Task Me_without_a_token_is_a_401_problem()
    {
        using var edge = identity.Edge();

        using var response = await edge.GetAsync("/api/auth/me", Cancel);

        await response.ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Me_with_a_tampered_token_is_a_401_problem()
    {
        using var edge = identity.Edge();
        var session = await edge.RegisterAsync();
        var parts = session.AccessToken.Split('.');
        var claims = Encoding.UTF8.GetString(Convert.FromBase64String(Pad(parts[1]))).Replace("\"owner\"", "\"admin\"");
        var forged = $"{parts[0]}.{Convert.ToBase64String(Encoding.UTF8.GetBytes(claims)).TrimEnd('=').Replace('+', '-').Replace('/', '_')}.{parts[2]}";

        using var response = await edge.GetAsync("/api/auth/me", forged);

        var problem = await response.ShouldBeProblem(HttpStatusCode.Unauthorized);
        Assert.Equal("The access token is not valid.", problem.GetProperty("detail").GetString());
    }

    private static string Pad(string base64Url)
    {
        var s = base64Url.Replace('-', '+').Replace('_', '/');
        return s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');
    }
}
