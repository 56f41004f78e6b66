using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Authorization;

namespace Gateway.Identity.Accounts;

public static class CallerPolicies
{
    // A person signed in with an access token. Managing the organisation (its members, invitations, roles, profile)
    // and changing one's own profile take one: a leaked API key cannot invite its finder as an owner. A key may
    // still say who it belongs to (GET /api/auth/me, GET /api/user).
    public const string User = "user";

    public static AuthorizationBuilder AddCallerPolicies(this AuthorizationBuilder authorization) => authorization
        .AddPolicy(User, policy => policy.RequireClaim(CallerClaims.Method, CallerMethods.User));
}
