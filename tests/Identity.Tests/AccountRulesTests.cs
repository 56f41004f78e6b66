using Gateway.Identity.Accounts;

namespace Identity.Tests;

// The rules for what people type and who may manage whom, on their own: no server.
public sealed class AccountRulesTests
{
    [Theory]
    [InlineData("ada@example.com")]
    [InlineData("ada.lovelace+gateway@mail.example.co.uk")]
    public void A_plain_address_is_an_email(string email) => Assert.Null(AccountRules.Email(email));

    [Theory]
    [InlineData("ada")]
    [InlineData("ada@localhost")]
    [InlineData("Ada <ada@example.com>")]
    [InlineData(" ada@example.com")]
    [InlineData("ada@@example.com")]
    public void Anything_but_a_bare_address_with_a_dotted_domain_is_refused(string email) =>
        Assert.Equal("This is not a valid e-mail address.", AccountRules.Email(email));

    [Fact]
    public void An_email_is_required_and_bounded()
    {
        Assert.Equal("An e-mail address is required.", AccountRules.Email(null));
        Assert.Equal("An e-mail address is required.", AccountRules.Email(""));
        var tooLong = new string('a', AccountRules.MaxEmail - "@example.com".Length + 1) + "@example.com";
        Assert.Equal($"An e-mail address is at most {AccountRules.MaxEmail} characters.", AccountRules.Email(tooLong));
    }

    [Fact]
    public void A_password_is_required_and_at_most_MaxPassword_characters_of_any_kind()
    {
        Assert.Equal("A password is required.", AccountRules.Password(null));
        Assert.Equal("A password is required.", AccountRules.Password(""));
        Assert.Null(AccountRules.Password(" "));
        Assert.Null(AccountRules.Password(new string('p', AccountRules.MaxPassword)));
        Assert.Equal($"A password is at most {AccountRules.MaxPassword} characters.", AccountRules.Password(new string('p', AccountRules.MaxPassword + 1)));
    }

    [Fact]
    public void A_name_may_be_left_out_unless_required_but_never_blank_or_too_long()
    {
        Assert.Null(AccountRules.Name(null));
        Assert.Equal("A name is required.", AccountRules.Name(null, required: true));
        Assert.Equal("A name cannot be blank.", AccountRules.Name("  "));
        Assert.Equal("A name cannot be blank.", AccountRules.Name("\u200b\u200b")); // nothing visible (the device trial)
        Assert.Null(AccountRules.Name("👩\u200d💻")); // a joiner inside an emoji is fine
        Assert.Null(AccountRules.Name(new string('n', AccountRules.MaxName)));
        Assert.Equal($"A name is at most {AccountRules.MaxName} characters.", AccountRules.Name(new string('n', AccountRules.MaxName + 1)));
        Assert.Equal("A name cannot contain control characters.", AccountRules.Name("Acme\nAccept here: http://evil.example/x"));
        Assert.Equal("A name cannot contain control characters.", AccountRules.Name("Al\u0007ice"));
        // A line separator and a right-to-left override break or reorder a line as surely; an emoji's joiner does not.
        Assert.Equal("A name cannot contain control characters.", AccountRules.Name("X\u2028Y"));
        Assert.Equal("A name cannot contain control characters.", AccountRules.Name("abc\u202Efdp.exe"));
        Assert.Null(AccountRules.Name("The \U0001F468\u200D\U0001F469\u200D\U0001F467 family"));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("Europe/Berlin", true)]
    [InlineData("America/Argentina/Buenos_Aires", true)]
    [InlineData("Mars/Olympus_Mons", false)]
    [InlineData("", false)]
    public void A_timezone_is_an_IANA_name_or_none(string? timezone, bool accepted) =>
        Assert.Equal(accepted, AccountRules.Timezone(timezone) is null);

    [Fact]
    public void Check_collects_the_first_reason_for_each_refused_field()
    {
        var errors = new Dictionary<string, string[]>();

        var fine = AccountRules.Check(errors, ("email", AccountRules.Email("nope")), ("password", null), ("email", "a second reason"));

        Assert.False(fine);
        Assert.Equal(["email"], errors.Keys);
        Assert.Equal(["This is not a valid e-mail address."], errors["email"]);
        Assert.True(AccountRules.Check([], ("email", null)));
    }

    [Theory]
    [InlineData("owner", Role.Owner)]
    [InlineData("admin", Role.Admin)]
    [InlineData("member", Role.Member)]
    public void A_role_is_parsed_from_its_lower_case_name_only(string name, Role role)
    {
        Assert.True(Roles.TryParse(name, out var parsed));
        Assert.Equal(role, parsed);
        Assert.Equal(name, role.Name());
        Assert.False(Roles.TryParse(name.ToUpperInvariant(), out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("2")]
    [InlineData("superuser")]
    public void Anything_else_is_not_a_role(string? name) => Assert.False(Roles.TryParse(name, out _));

    [Theory]
    [InlineData(Role.Member, Role.Member, false)]
    [InlineData(Role.Admin, Role.Member, true)]
    [InlineData(Role.Admin, Role.Admin, true)]
    [InlineData(Role.Admin, Role.Owner, false)]
    [InlineData(Role.Owner, Role.Owner, true)]
    public void A_caller_manages_and_grants_only_roles_up_to_their_own_and_members_none(Role caller, Role subject, bool allowed)
    {
        var user = User.Create("caller@example.com", null, Guid.NewGuid(), caller);

        Assert.Equal(allowed, user.CanManage(subject));
        Assert.Equal(allowed, user.CanGrant(subject));
        Assert.Equal(caller >= Role.Admin, user.CanManageMembers());
    }
}
