using Gateway.Keys.Vault;

namespace Keys.Tests;

// The vault's input rules on their own: no server.
public sealed class VaultRulesTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\u200b\u200b")]
    public void A_missing_or_blank_name_is_refused(string? name) =>
        Assert.Equal("A name is required.", VaultRules.Name(name));

    [Fact]
    public void A_name_is_measured_without_its_surrounding_spaces()
    {
        var longest = new string('N', VaultSecret.MaxNameLength);

        Assert.Null(VaultRules.Name($"  {longest}  "));
        Assert.Equal($"A name is at most {VaultSecret.MaxNameLength} characters.", VaultRules.Name(longest + "N"));
    }

    [Theory]
    [InlineData("GITHUB\nTOKEN")]
    [InlineData("GITHUB\u0000TOKEN")]
    public void A_name_with_control_characters_is_refused(string name) =>
        Assert.Equal("A name cannot contain control characters.", VaultRules.Name(name));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void A_missing_value_is_refused(string? value) =>
        Assert.Equal("A value is required.", VaultRules.Value(value));

    [Fact]
    public void A_value_is_kept_as_sent_so_spaces_alone_are_a_value() =>
        Assert.Null(VaultRules.Value("   "));

    [Fact]
    public void A_value_is_limited_in_UTF8_bytes_not_characters()
    {
        var fits = new string('€', VaultSecret.MaxValueBytes / 3); // three bytes each
        var over = fits + "€";

        Assert.Null(VaultRules.Value(fits));
        Assert.Equal($"A value is at most {VaultSecret.MaxValueBytes} bytes (UTF-8); this one is {(fits.Length + 1) * 3}.", VaultRules.Value(over));
        Assert.Null(VaultRules.Value(new string('a', VaultSecret.MaxValueBytes)));
        Assert.NotNull(VaultRules.Value(new string('a', VaultSecret.MaxValueBytes + 1)));
    }
}
