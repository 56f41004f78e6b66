using System.Security.Claims;

namespace Gateway.ServiceDefaults;

// What a caller token says, and how a service reads it from the request's user.
public static class CallerMethods
{
    public const string User = "user";
    public const string ApiKey = "api_key";
    public const string Service = "service";
}

public static class CallerClaims
{
    public const string UserId = "sub";
    public const string OrganizationId = "org";
    public const string Role = "role";
    public const string Email = "email";
    public const string Method = "amr";
    public const string ApiKeyId = "key";
    public const string SessionId = "sid";
}

public static class CallerPrincipal
{
    // Only called behind RequireAuthorization(), where the edge's token always carries the user.
    public static Guid GetUserId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(CallerClaims.UserId) ?? throw new InvalidOperationException("The caller has no user id."));

    public static Guid? GetOrganizationId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(CallerClaims.OrganizationId), out var id) ? id : null;

    public static string? GetRole(this ClaimsPrincipal user) => user.FindFirstValue(CallerClaims.Role);

    // The sign-in session of a caller who came with an access token; null for an API key.
    public static Guid? GetSessionId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(CallerClaims.SessionId), out var id) ? id : null;
}
