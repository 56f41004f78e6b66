namespace ServiceDefaults.Tests;

// Options that hold a secret are printed (ToString, and so any log line that includes them) without it.
public sealed class SecretOptionsTests
{
    private const string Secret = "planted-secret-value";

    [Fact]
    public void Options_that_hold_a_secret_never_print_it()
    {
        object[] options =
        [
            new Gateway.Identity.Tokens.TokenIssuanceOptions { KeyEncryptionKey = Secret },
            new Gateway.Identity.OAuth.OAuthProviderOptions { ClientSecret = Secret },
            new Gateway.Identity.Mail.SmtpOptions { Password = Secret },
            new Gateway.Billing.Purchases.StripeOptions { SecretKey = Secret, WebhookSecret = Secret },
            new Gateway.Keys.Vault.VaultOptions { EncryptionKey = Secret },
            new Gateway.Edge.Authentication.ApiKeyCacheOptions { CacheKey = Secret },
            new Gateway.ServiceDefaults.CallerTokenOptions { Key = Secret },
            new Gateway.Chat.Upstream.UpstreamOptions { ApiKey = Secret },
            new Gateway.Chat.Upstream.ProviderOptions { ApiKey = Secret },
        ];

        Assert.All(options, o => Assert.DoesNotContain(Secret, o.ToString()));
    }
}
