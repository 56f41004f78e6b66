using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Gateway.Hosting.Dashboard;

/// <summary>
/// The dashboard's door: a token made fresh for each AppHost run and printed once as a login link (as Aspire does).
/// Opening the link exchanges the token for a session cookie; without the cookie, the dashboard shows only its login
/// prompt, where the token can be pasted.
/// </summary>
internal sealed class BrowserToken
{
    public const string CookieName = "gateway_dashboard";
    private readonly byte[] session = RandomNumberGenerator.GetBytes(32);

    public string Value { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public bool Matches(string? candidate) =>
        candidate is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate.Trim()), Encoding.UTF8.GetBytes(Value));

    public bool IsSignedIn(HttpContext context) =>
        context.Request.Cookies.TryGetValue(CookieName, out var cookie)
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(cookie), Encoding.UTF8.GetBytes(Convert.ToHexStringLower(session)));

    public void SignIn(HttpContext context) =>
        context.Response.Cookies.Append(CookieName, Convert.ToHexStringLower(session), new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Path = "/",
            IsEssential = true,
        });
}
