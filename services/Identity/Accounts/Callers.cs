using System.Security.Claims;
using Gateway.Identity.Infrastructure;
using Gateway.Identity.Tokens;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Identity.Accounts;

public static class Callers
{
    // The authenticated caller as stored now: roles and membership are read here, never trusted from
    // the token, so a demotion takes effect on the next request.
    public static async Task<User?> FindCallerAsync(this AccountsDbContext db, ClaimsPrincipal principal, CancellationToken cancellationToken) =>
        principal.UserId() is { } id ? await db.Users.SingleOrDefaultAsync(u => u.Id == id, cancellationToken) : null;
}

public sealed record UserResponse(Guid Id, string Email, string? Name, Guid OrganizationId, string Role)
{
    public static UserResponse From(User user) => new(user.Id, user.Email!, user.Name, user.OrganizationId, user.Role.Name());
}
