using System.Net;
using static Identity.Tests.Api;

namespace Identity.Tests;

public sealed class OrganizationTests(IdentitySystem identity) : IClassFixture<IdentitySystem>
{
    [Fact]
    public async Task An_invited_person_joins_the_organisation_with_the_given_role()
    {
        using var edge = identity.Edge();
        var owner = await edge.RegisterAsync();
        var email = NewEmail("invitee");

        using var invite = await edge.PostAsync("/api/users/invite", owner.AccessToken, new { email, role = "admin" });
        var token = InvitationToken(email);
        using var accept = await edge.PostAsync("/api/auth/accept-invite", null, new { token, password = Password, name = "Grace" });

        await invite.ShouldBe(HttpStatusCode.Created);
        await accept.ShouldBe(HttpStatusCode.Created);
        var joined = await accept.JsonAsync();
        using var me = await edge.GetAsync("/api/auth/me", joined.GetProperty("accessToken").GetString()!);
        var profile = await me.JsonAsync();
        Assert.Equal(owner.OrganizationId, profile.GetProperty("organizationId").GetGuid());
        Assert.Equal("admin", profile.GetProperty("role").GetString());
        Assert.Equal("Grace", profile.GetProperty("name").GetString());
    }

    [Fact]
    public async Task The_invitation_token_is_mailed_and_never_returned_to_the_inviter()
    {
        using var edge = identity.Edge();
        var owner = await edge.RegisterAsync();
        var email = NewEmail("invitee");

        using var invite = await edge.PostAsync("/api/users/invite", owner.AccessToken, new { email, role = "member" });
        using var list = await edge.GetAsync("/api/users", owner.AccessToken);

        await invite.ShouldBe(HttpStatusCode.Created);
        var token = InvitationToken(email);
        Assert.DoesNotContain(token, await invite.Content.ReadAsStringAsync(Cancel));
        Assert.DoesNotContain(token, await list.Content.ReadAsStringAsync(Cancel));
        var body = await invite.JsonAsync();
        Assert.Equal("invited", body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_invitation_can_be_used_once()
    {
        using var edge = identity.Edge();
        var owner = await edge.RegisterAsync();
        var email = NewEmail("invitee");
        using var invite = await edge.PostAsync("/api/users/invite", owner.AccessToken, new { email, role = "member" });
        var token = InvitationToken(email);
        using var first = await edge.PostAsync("/api/auth/accept-invite", null, new { token, password = Password });

        using var second = await edge.PostAsync("/api/auth/accept-invite", null, new { token, password = Password });

        await first.ShouldBe(HttpStatusCode.Created);
        await second.ShouldBeProblem(HttpStatusCode.BadRequest, "token");
    }

    // The invitee registered on their own in the meantime (the third trial was told about an 'email' field it never sent).
    [Fact]
    public async Task An_invitation_to_an_address_that_has_since_registered_says_so_naming_the_token()
    {
        using var edge = identity.Edge();
        var owner = await edge.RegisterAsync();
        var email = NewEmail("early");
        using var invite = await edge.PostAsync("/api/users/invite", owner.AccessToken, new { email, role = "member" });
        await invite.ShouldBe(HttpStatusCode.Created);
        var token = InvitationToken(email);
        await edge.RegisterAsync(email.ToUpperInvariant());

        using var accept = await edge.PostAsync("/api/auth/accept-invite", null, new { token, password = Password });

        Assert.StartsWith("The address this invitation was sent to has an account of its own now",
            await accept.ShouldBeProblemAbout(HttpStatusCode.Conflict, "token"));
        // The inviting organisation sees it closed, not still "invited" (the organisation trial), and cannot resend it.
        using var list = await edge.GetAsync("/api/users", owner.AccessToken);
        var listed = (await list.JsonAsync()).GetProperty("data").EnumerateArray().Single(u => u.GetProperty("email").GetString() == email);
        Assert.Equal("closed", listed.GetProperty("status").GetString());
        using var resend = await edge.PostAsync($"/api/users/{listed.GetProperty("id").GetGuid()}/resend-invite", owner.AccessToken, new { });
        Assert.StartsWith("The address this invitation was sent to has an account of its own now", await resend.ShouldBeProblemAbout(HttpStatusCode.Conflict, "id"));
    }

    [Fact]
    public async Task A_resent_invitation_replaces_the_old_link()
    {
        using var edge = identity.Edge();
        var owner = await edge.RegisterAsync();
        var email = NewEmail("invitee");
        using var invite = await edge.PostAsync("/api/users/invite", owner.AccessToken, new { email, role = "member" });
        var id = (await invite.JsonAsync()).GetProperty("id").GetGuid();
        var oldToken = InvitationToken(email);

        using var notAnId = await edge.PostAsync("/api/users/abc/resend-invite", owner.AccessToken, null);
        using var resend = await edge.PostAsync($"/api/users/{id}/resend-invite", owner.AccessToken, null);
        var newToken = InvitationToken(email);
        using var withOld = await edge.PostAsync("/api/auth/accept-invite", null, new { token = oldToken, password = Password });
        using var withNew = await edge.PostAsync("/api/auth/accept-invite", null, new { token = newToken, password = Password });

        await notAnId.ShouldBeProblem(HttpStatusCode.BadRequest, "id");
        await resend.ShouldBe(HttpStatusCode.OK);
        Assert.NotEqual(oldToken, newToken);
        await withOld.ShouldBeProblem(HttpStatusCode.BadRequest, "token");
        await withNew.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_pending_invitation_removed_from_the_users_list_is_withdrawn_and_its_link_stops_working()
    {
        using var edge = identity.Edge();
        var owner = await edge.RegisterAsync();
        var email = NewEmail("invitee");
        using var invite = await edge.PostAsync("/api/users/invite", owner.AccessToken, new { email, role = "owner" });
        var id = (await invite.JsonAsync()).GetProperty("id").GetGuid();
        var token = InvitationToken(email);

        using var withdraw = await edge.SendAsync(HttpMethod.Delete, $"/api/users/{id}", owner.AccessToken);
        using var again = await edge.SendAsync(HttpMethod.Delete, $"/api/users/{id}", owner.AccessToken);
        using var accept = await edge.PostAsync("/api/auth/accept-invite", null, new { token, password = Password });
        using var list = await edge.GetAsync("/api/users", owner.AccessToken);

        await withdraw.ShouldBe(HttpStatusCode.NoContent);
        await again.ShouldBeProblem(HttpStatusCode.NotFound);
        await accept.ShouldBeProblem(HttpStatusCode.BadRequest, "token");
        Assert.DoesNotContain(email, await list.Content.ReadAsStringAsync(Cancel));
    }

    [Fact]
    public async Task A_tampered_invitation_token_names_the_field()
    {
        using var edge = identity.Edge();

        using var accept = await edge.PostAsync("/api/auth/accept-invite", null, new { token = "forged-token", password = Password });

        await accept.ShouldBeProblem(HttpStatusCode.BadRequest, "token");
    }

    [Fact]
    public async Task Resending_another_organisations_invitation_is_not_found()
    {
        using var edge = identity.Edge();
        var owner = await edge.RegisterAsync();
        var stranger = await edge.RegisterAsync();
        using var invite = await edge.PostAsync("/api/users/invite", owner.AccessToken, new { email = NewEmail("invitee"), role = "member" });
        var id = (await invite.JsonAsync()).GetProperty("id").GetGuid();

        using var resend = await edge.PostAsync($"/api/users/{id}/resend-invite", stranger.AccessToken, null);

        await resend.ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Inviting_an_address_that_has_an_account_is_a_conflict()
    {
        using var edge = identity.Edge();
        var owner = await edge.RegisterAsync();
        var email = NewEmail("taken");
        await edge.RegisterAsync(email);

        using var invite = await edge.PostAsync("/api/users/invite", owner.AccessToken, new { email, role = "member" });

        await invite.ShouldBeProblem(HttpStatusCode.Conflict, "email");
    }

    [Theory]
    [InlineData("superuser")]
    [InlineData("Owner ")]
    [InlineData(null)]
    public async Task An_unknown_role_names_the_field(string? role)
    {
        using var edge = identity.Edge();
        var owner = await edge.RegisterAsync();

        using var invite = await edge.PostAsync("/api/users/invite", owner.AccessToken, new { email = NewEmail(), role });
        using var change = await edge.PostAsync($"/api/users/{owner.UserId}/role", owner.AccessToken, new { role });

        await invite.ShouldBeProblem(HttpStatusCode.BadRequest, "role");
        await change.ShouldBeProblem(HttpStatusCode.BadRequest, "role");
    }

    [Fact]
    public async Task Members_cannot_invite_or_change_roles()
    {
        using var edge = identity.Edge();
        var (owner, member) = await OrganizationWithAsync(edge, "member");

        using var invite = await edge.PostAsync("/api/users/invite", member.AccessToken, new { email = NewEmail(), role = "member" });
        using var promote = await edge.PostAsync($"/api/users/{member.UserId}/role", member.AccessToken, new { role = "owner" });
        using var demote = await edge.PostAsync($"/api/users/{owner.UserId}/role", member.AccessToken, new { role = "member" });

        await invite.ShouldBeProblem(HttpStatusCode.Forbidden);
        await promote.ShouldBeProblem(HttpStatusCode.Forbidden);
        await demote.ShouldBeProblem(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Admins_cannot_make_owners_or_invite_them()
    {
        using var edge = identity.Edge();
        var (_, admin) = await OrganizationWithAsync(edge, "admin");

        using var invite = await edge.PostAsync("/api/users/invite", admin.AccessToken, new { email = NewEmail(), role = "owner" });
        using var promote = await edge.PostAsync($"/api/users/{admin.UserId}/role", admin.AccessToken, new { role = "owner" });

        await invite.ShouldBeProblem(HttpStatusCode.Forbidden);
        await promote.ShouldBeProblem(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task The_last_owner_cannot_be_demoted_or_removed()
    {
        using var edge = identity.Edge();
        var owner = await edge.RegisterAsync();

        using var demote = await edge.PostAsync($"/api/users/{owner.UserId}/role", owner.AccessToken, new { role = "admin" });
        using var remove = await edge.SendAsync(HttpMethod.Delete, $"/api/users/{owner.UserId}", owner.AccessToken);
        using var me = await edge.GetAsync("/api/auth/me", owner.AccessToken);

        await demote.ShouldBeProblem(HttpStatusCode.Conflict, "role");
        await remove.ShouldBeProblem(HttpStatusCode.Conflict);
        Assert.Equal("owner", (await me.JsonAsync()).GetProperty("role").GetString());
    }

    [Fact]
    public async Task An_owner_can_hand_over_and_then_step_down()
    {
        using var edge = identity.Edge();
        var (owner, admin) = await OrganizationWithAsync(edge, "admin");

        using var promote = await edge.PostAsync($"/api/users/{admin.UserId}/role", owner.AccessToken, new { role = "owner" });
        using var stepDown = await edge.PostAsync($"/api/users/{owner.UserId}/role", owner.AccessToken, new { role = "member" });
        using var inviteAfter = await edge.PostAsync("/api/users/invite", owner.AccessToken, new { email = NewEmail(), role = "member" });

        await promote.ShouldBe(HttpStatusCode.OK);
        await stepDown.ShouldBe(HttpStatusCode.OK);
        Assert.Equal("member", (await stepDown.JsonAsync()).GetProperty("role").GetString());
        // The old token still says "owner"; the service reads the role from the database.
        await inviteAfter.ShouldBeProblem(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Changing_the_role_of_someone_in_another_organisation_is_not_found()
    {
        using var edge = identity.Edge();
        var owner = await edge.RegisterAsync();
        var stranger = await edge.RegisterAsync();

        using var change = await edge.PostAsync($"/api/users/{stranger.UserId}/role", owner.AccessToken, new { role = "member" });

        await change.ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_users_list_shows_only_the_callers_organisation_and_can_be_searched()
    {
        using var edge = identity.Edge();
        var (owner, member) = await OrganizationWithAsync(edge, "member");
        var stranger = await edge.RegisterAsync();
        var pending = NewEmail("pending");
        using var invite = await edge.PostAsync("/api/users/invite", owner.AccessToken, new { email = pending, role = "member" });

        using var all = await edge.GetAsync("/api/users?limit=10&offset=0", owner.AccessToken);
        using var search = await edge.GetAsync($"/api/users?search={Uri.EscapeDataString(pending[..20])}", owner.AccessToken);

        var page = await all.JsonAsync();
        var ids = page.GetProperty("data").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()).ToList();
        Assert.Equal(3, page.GetProperty("total").GetInt32());
        Assert.Contains(owner.UserId, ids);
        Assert.Contains(member.UserId, ids);
        Assert.DoesNotContain(stranger.UserId, ids);
        var found = Assert.Single((await search.JsonAsync()).GetProperty("data").EnumerateArray());
        Assert.Equal("invited", found.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_limit_out_of_range_names_the_field()
    {
        using var edge = identity.Edge();
        var owner = await edge.RegisterAsync();

        using var response = await edge.GetAsync("/api/users?limit=1000", owner.AccessToken);

        await response.ShouldBeProblem(HttpStatusCode.BadRequest, "limit");
    }

    // Postgres refuses NUL in text: the search reached it and was a 500.
    [Fact]
    public async Task A_search_with_a_nul_character_is_a_400_naming_the_parameter()
    {
        using var edge = identity.Edge();
        var owner = await edge.RegisterAsync();

        using var response = await edge.GetAsync("/api/users?search=a%00b", owner.AccessToken);

        var problem = await response.ShouldBeProblem(HttpStatusCode.BadRequest, "search");
        Assert.Equal("The query parameter 'search' cannot contain the NUL character (%00).", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Owners_update_the_organisation_profile_and_members_cannot()
    {
        using var edge = identity.Edge();
        var (owner, member) = await OrganizationWithAsync(edge, "member");

        using var update = await edge.SendAsync(HttpMethod.Patch, "/api/organization/profile", owner.AccessToken,
            new { name = "Acme", contactEmail = "ops@acme.example.com", website = "https://acme.example.com" });
        using var refused = await edge.SendAsync(HttpMethod.Patch, "/api/organization/profile", member.AccessToken, new { name = "Hijacked" });
        using var read = await edge.GetAsync("/api/organization/profile", member.AccessToken);

        await update.ShouldBe(HttpStatusCode.OK);
        await refused.ShouldBeProblem(HttpStatusCode.Forbidden);
        var profile = await read.JsonAsync();
        Assert.Equal("Acme", profile.GetProperty("name").GetString());
        Assert.Equal("ops@acme.example.com", profile.GetProperty("contactEmail").GetString());
        Assert.Equal(2, profile.GetProperty("memberCount").GetInt32());
    }

    [Fact]
    public async Task An_invalid_organisation_website_names_the_field()
    {
        using var edge = identity.Edge();
        var owner = await edge.RegisterAsync();

        using var update = await edge.SendAsync(HttpMethod.Patch, "/api/organization/profile", owner.AccessToken, new { website = "javascript:alert(1)" });

        await update.ShouldBeProblem(HttpStatusCode.BadRequest, "website");
    }

    // An owner and one more person who joined by invitation with the given role.
    private async Task<(Session Owner, Session Other)> OrganizationWithAsync(HttpClient edge, string role)
    {
        var owner = await edge.RegisterAsync();
        var email = NewEmail(role);
        using var invite = await edge.PostAsync("/api/users/invite", owner.AccessToken, new { email, role });
        await invite.ShouldBe(HttpStatusCode.Created);
        using var accept = await edge.PostAsync("/api/auth/accept-invite", null, new { token = InvitationToken(email), password = Password });
        await accept.ShouldBe(HttpStatusCode.Created);
        return (owner, (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<Session>(accept.Content, Cancel))!);
    }

    // The token from the newest invitation mailed to this address (a file in the system's mail folder).
    private string InvitationToken(string email) => identity.System.Mail.InvitationToken(email);
}
