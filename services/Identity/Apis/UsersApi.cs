using System.ComponentModel.DataAnnotations;
using Gateway.Contracts;
using Gateway.Identity.Accounts;
using Gateway.Identity.Infrastructure;
using Gateway.Identity.Tokens;
using Gateway.ServiceDefaults;
using Gateway.ServiceDefaults.Outbox;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Gateway.Identity.Apis;

// The people of the caller's organisation (seed 001): members, pending invitations, roles.
public static class UsersApi
{
    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/users").WithTags("Users").RequireAuthorization(CallerAuthentication.UserPolicy);

        api.MapGet("/", ListUsers).WithSummary("Lists your organisation's members and pending invitations.");
        api.MapPost("/{id}/role", ChangeRole).WithSummary("Changes a member's role.");
        api.MapDelete("/{id}", RemoveUser).WithSummary("Removes a member (deleting their account) or withdraws an invitation.");

        return app;
    }

    public sealed record UserItem(Guid Id, string Email, string? Name, string Role, string Status, DateTimeOffset Since);
    public sealed record ChangeRoleRequest([property: Required] string? Role);

    // Members first, then pending invitations (status "invited", "expired", or "closed": the address has an account of
    // its own now, and an account belongs to one organisation, so it cannot be accepted); their ids are the invitation's,
    // for resend-invite.
    public static async Task<Results<Ok<Page<UserItem>>, ProblemHttpResult>> ListUsers(
        HttpContext context, AccountsDbContext db, TimeProvider time, CancellationToken cancellationToken,
        string? search = null, int? limit = null, int? offset = null)
    {
        if (search is { Length: > 100 })
        {
            return ApiProblems.Invalid("search", "A search is at most 100 characters.");
        }
        if (PageRequest.Check(limit, offset, out var page) is { } problem)
        {
            return problem;
        }
        if (await db.FindCallerAsync(context.User, cancellationToken) is not { } caller)
        {
            return ApiProblems.Unauthorized("This account no longer exists.");
        }

        var pattern = string.IsNullOrWhiteSpace(search) ? null : $"%{search.Trim().Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_")}%";
        var members = db.Users.Where(u => u.OrganizationId == caller.OrganizationId);
        var invitations = db.Invitations.Where(i => i.OrganizationId == caller.OrganizationId && i.AcceptedAt == null);
        if (pattern is not null)
        {
            members = members.Where(u => EF.Functions.ILike(u.Email!, pattern) || EF.Functions.ILike(u.Name ?? "", pattern));
            invitations = invitations.Where(i => EF.Functions.ILike(i.Email, pattern));
        }

        var memberCount = await members.CountAsync(cancellationToken);
        var invitationCount = await invitations.CountAsync(cancellationToken);
        var items = new List<UserItem>();
        if (page.Offset < memberCount)
        {
            var rows = await members.OrderBy(u => u.Email).Skip(page.Offset).Take(page.Limit).ToListAsync(cancellationToken);
            items.AddRange(rows.Select(u => new UserItem(u.Id, u.Email!, u.Name, u.Role.Name(), "active", u.CreatedAt)));
        }
        if (items.Count < page.Limit)
        {
            var now = time.GetUtcNow();
            var rows = await invitations.OrderBy(i => i.Email)
                .Skip(Math.Max(0, page.Offset - memberCount)).Take(page.Limit - items.Count)
                .Select(i => new { Invitation = i, Closed = db.Users.Any(u => u.NormalizedUserName == i.Email.ToUpper()) })
                .ToListAsync(cancellationToken);
            items.AddRange(rows.Select(r => new UserItem(r.Invitation.Id, r.Invitation.Email, null, r.Invitation.Role.Name(),
                r.Closed ? "closed" : r.Invitation.ExpiresAt > now ? "invited" : "expired", r.Invitation.CreatedAt)));
        }
        return TypedResults.Ok(page.Of(items, memberCount + invitationCount));
    }

    public static async Task<Results<Ok<UserItem>, ProblemHttpResult>> ChangeRole(
        Guid id, ChangeRoleRequest request, HttpContext context, AccountsDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Roles.TryParse(request.Role, out var role))
        {
            return ApiProblems.Invalid("role", $"The role must be {Roles.Allowed}.");
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await LockCallersOrganizationAsync(db, context, cancellationToken) is not { } caller)
        {
            return ApiProblems.Unauthorized("This account no longer exists.");
        }
        if (!caller.CanManageMembers())
        {
            return ApiProblems.Forbidden("Only owners and admins can change roles.");
        }
        var subject = await db.Users.SingleOrDefaultAsync(u => u.Id == id && u.OrganizationId == caller.OrganizationId, cancellationToken);
        if (subject is null)
        {
            return ApiProblems.NotFound("There is no such user in your organisation.");
        }
        if (!caller.CanManage(subject.Role) || !caller.CanGrant(role))
        {
            return ApiProblems.Forbidden("Only owners can make owners or change an owner's role.");
        }
        if (subject.Role == role)
        {
            return TypedResults.Ok(Item(subject));
        }
        if (subject.Role == Role.Owner && await IsLastOwnerAsync(db, subject, cancellationToken))
        {
            return ApiProblems.Conflict("role", "The last owner cannot be demoted; make someone else an owner first.");
        }

        var previous = subject.Role;
        subject.Role = role;
        db.AddToOutbox(new UserRoleChanged(Guid.CreateVersion7(), subject.Id, subject.OrganizationId, previous.Name(), role.Name(), caller.Id, time.GetUtcNow()));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(Item(subject));
    }

    // Removing someone deletes their account: every account belongs to exactly one organisation.
    public static async Task<Results<NoContent, ProblemHttpResult>> RemoveUser(
        Guid id, HttpContext context, AccountsDbContext db, Sessions sessions, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await LockCallersOrganizationAsync(db, context, cancellationToken) is not { } caller)
        {
            return ApiProblems.Unauthorized("This account no longer exists.");
        }
        var subject = await db.Users.SingleOrDefaultAsync(u => u.Id == id && u.OrganizationId == caller.OrganizationId, cancellationToken);
        if (subject is null)
        {
            return await WithdrawInvitationAsync(id, caller, db, transaction, time, cancellationToken);
        }
        if (subject.Id != caller.Id && !caller.CanManage(subject.Role))
        {
            return ApiProblems.Forbidden("Only owners can remove owners, and members can only remove themselves.");
        }
        if (subject.Role == Role.Owner && await IsLastOwnerAsync(db, subject, cancellationToken))
        {
            return ApiProblems.Conflict("id", "The last owner cannot be removed; make someone else an owner first.");
        }
        await sessions.StageEndOfAllAsync(subject.Id, "account removed", cancellationToken);
        db.Users.Remove(subject);
        db.AddToOutbox(new UserDeleted(subject.Id, subject.OrganizationId, time.GetUtcNow()));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    // The users list shows pending invitations under their own ids: removing one withdraws it, and its link stops working.
    private static async Task<Results<NoContent, ProblemHttpResult>> WithdrawInvitationAsync(
        Guid id, User caller, AccountsDbContext db, IDbContextTransaction transaction, TimeProvider time, CancellationToken cancellationToken)
    {
        var invitation = await db.Invitations.SingleOrDefaultAsync(
            i => i.Id == id && i.OrganizationId == caller.OrganizationId && i.AcceptedAt == null, cancellationToken);
        if (invitation is null)
        {
            return ApiProblems.NotFound("There is no such user or pending invitation in your organisation.");
        }
        if (!caller.CanManageMembers())
        {
            return ApiProblems.Forbidden("Only owners and admins can withdraw invitations.");
        }
        if (!caller.CanGrant(invitation.Role))
        {
            return ApiProblems.Forbidden("Only owners can withdraw an invitation to become an owner.");
        }
        db.Invitations.Remove(invitation);
        db.AddToOutbox(new InvitationWithdrawn(invitation.Id, invitation.OrganizationId, invitation.Email, invitation.Role.Name(), caller.Id, time.GetUtcNow()));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    public static UserItem Item(User user) => new(user.Id, user.Email!, user.Name, user.Role.Name(), "active", user.CreatedAt);

    private static async Task<bool> IsLastOwnerAsync(AccountsDbContext db, User owner, CancellationToken cancellationToken) =>
        await db.Users.CountAsync(u => u.OrganizationId == owner.OrganizationId && u.Role == Role.Owner, cancellationToken) <= 1;

    // Role changes and removals in one organisation run one at a time (its row locked until the caller's
    // transaction ends), so two owners demoting each other at once cannot leave it without an owner.
    // The caller is read under the lock.
    private static async Task<User?> LockCallersOrganizationAsync(AccountsDbContext db, HttpContext context, CancellationToken cancellationToken)
    {
        var callerId = context.User.UserId();
        var organizationId = await db.Users.Where(u => u.Id == callerId).Select(u => (Guid?)u.OrganizationId).SingleOrDefaultAsync(cancellationToken);
        if (organizationId is null)
        {
            return null;
        }
        await db.Database.ExecuteSqlAsync($"""SELECT 1 FROM organizations WHERE "Id" = {organizationId} FOR UPDATE""", cancellationToken);
        return await db.Users.SingleOrDefaultAsync(u => u.Id == callerId, cancellationToken);
    }
}
