using System.Net;
using System.Text.Json;
using static Identity.Tests.Api;

namespace Identity.Tests;

public sealed class UserSettingsTests(IdentitySystem identity) : IClassFixture<IdentitySystem>
{
    [Fact]
    public async Task Patching_the_user_updates_name_timezone_and_assistant()
    {
        using var edge = identity.Edge();
        var session = await edge.RegisterAsync(name: "Ada");

        using var patch = await edge.SendAsync(HttpMethod.Patch, "/api/user", session.AccessToken,
            new { timezone = "Europe/Berlin", assistant = new { name = "Jarvis", interests = new[] { "chess", "go" } } });
        using var get = await edge.GetAsync("/api/user", session.AccessToken);

        await patch.ShouldBe(HttpStatusCode.OK);
        await get.ShouldBe(HttpStatusCode.OK);
        var user = await get.JsonAsync();
        Assert.Equal("Ada", user.GetProperty("name").GetString());
        Assert.Equal("Europe/Berlin", user.GetProperty("timezone").GetString());
        Assert.Equal("Jarvis", user.GetProperty("assistant").GetProperty("name").GetString());
        Assert.Equal(["chess", "go"], user.GetProperty("assistant").GetProperty("interests").EnumerateArray().Select(i => i.GetString()));
    }

    [Theory]
    [InlineData("Mars/Olympus_Mons")]
    [InlineData("W. Europe Standard Time")]
    public async Task A_timezone_that_is_not_an_IANA_zone_names_the_field(string timezone)
    {
        using var edge = identity.Edge();
        var session = await edge.RegisterAsync();

        using var patch = await edge.SendAsync(HttpMethod.Patch, "/api/user", session.AccessToken, new { timezone });

        await patch.ShouldBeProblem(HttpStatusCode.BadRequest, "timezone");
    }

    [Fact]
    public async Task Too_many_interests_name_the_field()
    {
        using var edge = identity.Edge();
        var session = await edge.RegisterAsync();

        using var patch = await edge.SendAsync(HttpMethod.Patch, "/api/user", session.AccessToken,
            new { assistant = new { interests = Enumerable.Range(0, 21).Select(i => $"topic {i}") } });

        await patch.ShouldBeProblem(HttpStatusCode.BadRequest, "assistant.interests");
    }

    [Theory]
    [InlineData("""{"nmae":"Ada"}""", "nmae", "'name', 'timezone', 'assistant'")]
    [InlineData("""{"a.b c":1}""", "['a.b c']", "'name', 'timezone', 'assistant'")]
    [InlineData("""{"assistant":{"instructions":"Be brief"}}""", "assistant.instructions", "'name', 'interests'")]
    public async Task A_misspelt_member_is_a_400_naming_it_and_what_the_request_takes_rather_than_a_200_that_changed_nothing(
        string body, string field, string members)
    {
        using var edge = identity.Edge();
        var session = await edge.RegisterAsync(name: "Ada");

        using var patch = await edge.SendAsync(HttpMethod.Patch, "/api/user", session.AccessToken, JsonDocument.Parse(body).RootElement);

        var reason = await patch.ShouldBeProblemAbout(HttpStatusCode.BadRequest, field);
        Assert.Equal($"The field '{field}' is not one this request takes: it takes {members}.", reason);
    }

    [Fact]
    public async Task Without_billing_or_chat_the_profile_still_answers_with_unknown_credits_and_assistant_status()
    {
        using var edge = identity.Edge();
        var session = await edge.RegisterAsync(name: "Ada");

        using var get = await edge.GetAsync("/api/user", session.AccessToken);

        await get.ShouldBe(HttpStatusCode.OK);
        var user = await get.JsonAsync();
        Assert.Equal("Ada", user.GetProperty("name").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, user.GetProperty("credits").ValueKind);
        Assert.Equal("unknown", user.GetProperty("assistant").GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_user_settings_need_a_token()
    {
        using var edge = identity.Edge();

        using var response = await edge.GetAsync("/api/user", Cancel);

        await response.ShouldBeProblem(HttpStatusCode.Unauthorized);
    }
}
