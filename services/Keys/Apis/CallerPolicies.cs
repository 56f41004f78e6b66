using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Authorization;

namespace Gateway.Keys.Apis;

public static class CallerPolicies
{
    // A person signed in with an access token (ServiceDefaults registers it). An API key cannot mint keys or touch
    // the vault, so a leaked key cannot be used to keep itself alive or to read what else the user holds.
    public const string User = CallerAuthentication.UserPolicy;

    // The edge itself (a caller token with amr=service); never a user, never an API key.
    public const string EdgeService = "edge-service";

    // A user, by access token or API key, as the edge signed them: Chat serving one of their requests forwards this.
    public const string UserOrKey = "user-or-key";

    public static AuthorizationBuilder AddCallerPolicies(this AuthorizationBuilder authorization) => authorization
        .AddPolicy(EdgeService, policy => policy.RequireClaim(CallerClaims.Method, CallerMethods.Service))
        .AddPolicy(UserOrKey, policy => policy.RequireClaim(CallerClaims.Method, CallerMethods.User, CallerMethods.ApiKey));
}
