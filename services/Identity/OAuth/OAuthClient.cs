using System.Net.Http.Headers;
using System.Text.Json;

namespace Gateway.Identity.OAuth;

public sealed record ExternalUser(string Id, string Email, string? Name);

public abstract record ExternalSignIn
{
    public sealed record Succeeded(ExternalUser User) : ExternalSignIn;
    public sealed record Failed(string Field, string Reason) : ExternalSignIn;
}

// The server-to-server half of the authorization-code flow: code for token, token for the user.
public sealed class OAuthClient(HttpClient http, ILogger<OAuthClient> logger)
{
    public async Task<ExternalSignIn> SignInAsync(
        string provider, OAuthProviderOptions options, string code, string? codeVerifier, string redirectUri, CancellationToken cancellationToken)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = redirectUri,
            ["client_id"] = options.ClientId!,
            ["client_secret"] = options.ClientSecret!,
        };
        if (codeVerifier is not null)
        {
            form["code_verifier"] = codeVerifier;
        }

        using var tokenRequest = new HttpRequestMessage(HttpMethod.Post, options.TokenEndpoint) { Content = new FormUrlEncodedContent(form) };
        tokenRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var tokenResponse = await http.SendAsync(tokenRequest, cancellationToken);
        var tokenDocument = await ReadJsonAsync(tokenResponse, cancellationToken);
        if (!tokenResponse.IsSuccessStatusCode || tokenDocument?.TryGetProperty("access_token", out var accessToken) != true
            || accessToken.GetString() is not { Length: > 0 } providerToken)
        {
            var error = tokenDocument?.TryGetProperty("error", out var e) == true ? e.GetString() : null;
            logger.LogWarning("{Provider} refused the authorization code: {Status} {Error}", provider, (int)tokenResponse.StatusCode, error);
            return new ExternalSignIn.Failed("code", $"{provider} did not accept the authorization code ({error ?? "no token"}); start the sign-in again.");
        }

        var profile = await GetJsonAsync(options.UserInfoEndpoint!, providerToken, cancellationToken);
        var id = profile is { } p && p.TryGetProperty(options.IdField, out var idValue) ? idValue.ToString() : null;
        var email = profile is { } q && q.TryGetProperty(options.EmailField, out var emailValue) && emailValue.ValueKind == JsonValueKind.String ? emailValue.GetString() : null;
        var name = profile is { } r && r.TryGetProperty(options.NameField, out var nameValue) && nameValue.ValueKind == JsonValueKind.String ? nameValue.GetString() : null;
        if (string.IsNullOrEmpty(email) && options.EmailsEndpoint is { Length: > 0 } emailsEndpoint)
        {
            email = PrimaryVerifiedEmail(await GetJsonAsync(emailsEndpoint, providerToken, cancellationToken));
        }
        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(email))
        {
            return new ExternalSignIn.Failed("email", $"{provider} did not share a user id and a verified e-mail address.");
        }
        return new ExternalSignIn.Succeeded(new ExternalUser(id, email, name));
    }

    private async Task<JsonElement?> GetJsonAsync(string url, string token, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("gateway-identity", "1.0")); // GitHub requires one
        using var response = await http.SendAsync(request, cancellationToken);
        return response.IsSuccessStatusCode ? await ReadJsonAsync(response, cancellationToken) : null;
    }

    private static async Task<JsonElement?> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? PrimaryVerifiedEmail(JsonElement? emails) =>
        emails is { ValueKind: JsonValueKind.Array } list
            ? list.EnumerateArray()
                .Where(e => e.TryGetProperty("verified", out var v) && v.ValueKind == JsonValueKind.True)
                .OrderByDescending(e => e.TryGetProperty("primary", out var p) && p.ValueKind == JsonValueKind.True)
                .Select(e => e.TryGetProperty("email", out var m) ? m.GetString() : null)
                .FirstOrDefault(m => !string.IsNullOrEmpty(m))
            : null;
}
