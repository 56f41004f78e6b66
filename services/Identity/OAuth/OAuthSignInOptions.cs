using System.ComponentModel.DataAnnotations;

namespace Gateway.Identity.OAuth;

// Identity:OAuth. A provider without a client id and secret is not offered (its routes answer 404).
public sealed record OAuthSignInOptions
{
    public const string Section = "Identity:OAuth";

    // The public address the providers redirect back to: {CallbackBaseUrl}/api/auth/oauth/{provider}/callback.
    [Required, Url] public string CallbackBaseUrl { get; init; } = "";

    [Range(typeof(TimeSpan), "00:01:00", "01:00:00")]
    public TimeSpan StateLifetime { get; init; } = TimeSpan.FromMinutes(10);

    public Dictionary<string, OAuthProviderOptions> Providers { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    public OAuthProviderOptions? Configured(string provider) =>
        Providers.TryGetValue(provider, out var options) && options.IsConfigured ? options : null;
}

public sealed record OAuthProviderOptions
{
    // It holds a secret: printed (ToString, a log line) by its name only.
    public override string ToString() => nameof(OAuthProviderOptions);

    public string? ClientId { get; init; }
    public string? ClientSecret { get; init; }
    public string? AuthorizationEndpoint { get; init; }
    public string? TokenEndpoint { get; init; }
    public string? UserInfoEndpoint { get; init; }

    // GitHub hides private addresses from /user; its /user/emails lists them with "primary" and "verified".
    public string? EmailsEndpoint { get; init; }
    public string Scopes { get; init; } = "";
    public bool UsePkce { get; init; } = true;

    // Where the user's id, e-mail and name are in the user-info document ("id" or "sub", "email" or "mail"...).
    public string IdField { get; init; } = "id";
    public string EmailField { get; init; } = "email";
    public string NameField { get; init; } = "name";

    public bool IsConfigured =>
        !string.IsNullOrEmpty(ClientId) && !string.IsNullOrEmpty(ClientSecret)
        && Uri.IsWellFormedUriString(AuthorizationEndpoint, UriKind.Absolute)
        && Uri.IsWellFormedUriString(TokenEndpoint, UriKind.Absolute)
        && Uri.IsWellFormedUriString(UserInfoEndpoint, UriKind.Absolute);
}
