using System.Security.Claims;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Authorization;

namespace Gateway.Devices.Apis;

// Devices gates on the role in the caller token, which the edge copies from the user's access token
// (at most 15 minutes old): a demoted admin keeps admin rights here until that token expires.
public static class CallerPolicies
{
    // Any person of an organisation, signed in with an access token (an API key has no role).
    public const string Member = "member";

    // An owner or an admin: registers, changes and deletes devices, decides customer sessions.
    public const string Manager = "manager";

    public static AuthorizationBuilder AddCallerPolicies(this AuthorizationBuilder authorization) => authorization
        .AddPolicy(Member, policy => policy
            .RequireClaim(CallerClaims.Method, CallerMethods.User)
            .RequireClaim(CallerClaims.OrganizationId))
        .AddPolicy(Manager, policy => policy
            .RequireClaim(CallerClaims.Method, CallerMethods.User)
            .RequireClaim(CallerClaims.OrganizationId)
            .RequireClaim(CallerClaims.Role, "owner", "admin"));

    // Only called behind one of the policies above, which require the claim.
    public static Guid Organization(this ClaimsPrincipal user) =>
        user.GetOrganizationId() ?? throw new InvalidOperationException("The caller has no organisation.");
}
