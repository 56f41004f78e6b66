using System.ComponentModel.DataAnnotations;
using Gateway.Contracts;
using Gateway.Identity.Accounts;
using Gateway.Identity.Infrastructure;
using Gateway.Identity.Invitations;
using Gateway.Identity.Mail;
using Gateway.Identity.Tokens;
using Gateway.ServiceDefaults;
using Gateway.ServiceDefaults.Outbox;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Gateway.Identity.Apis;

// Inviting people into the caller's organisation and accepting an invitation. The token travels only
// in the e-mail; the inviter never sees it.
public static class InvitationsApi
{
    public static IEndpointRouteBuilder MapInvitationsApi(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/api/users").WithTags("Invitations").RequireAuthorization(CallerAuthentication.UserPolicy);
        users.MapPost("/invite", Invite).WithSummary("Invites someone into your organisation by e-mail.");
        users.MapPost("/{id}/resend-invite", ResendInvite).WithSummary("Sends a pending invitation's e-mail again.");

        app.MapPost("/api/auth/accept-invite", AcceptInvite).WithTags("Invitations").WithSummary("Accepts an invitation: creates the account and signs it in.");
        return app;
    }

    public sealed record InviteRequest([property: Required] string? Email, [property: Required] string? Role);
    public sealed record InvitationResponse(Guid Id, string Email, string Role, string Status, DateTimeOffset ExpiresAt, int TimesSent);
    public sealed record AcceptInviteRequest([property: Required] string? Token, [property: Required] string? Password, string? Name);

    public sealed record InvitationServices(
        AccountsDbContext Db, InvitationMail Mail, IOptions<InvitationOptions> Options, TimeProvider Time, ILogger<InvitationServices> Logger);

    public static async Task<Results<Created<InvitationResponse>, ProblemHttpResult>> Invite(
        InviteRequest request, HttpContext context, [AsParameters] InvitationServices services, CancellationToken cancellationToken)
    {
        var email = AccountRules.Normalize(request.Email)?.ToLowerInvariant();
        var errors = new Dictionary<string, string[]>();
        if (!AccountRules.Check(errors,
                ("email", AccountRules.Email(email)),
                ("role", Roles.TryParse(request.Role, out _) ? null : $"The role must be {Roles.Allowed}.")))
        {
            return ApiProblems.Invalid(errors);
        }
        Roles.TryParse(request.Role, out var role);

        var db = services.Db;
        if (await db.FindCallerAsync(context.User, cancellationToken) is not { } caller)
        {
            return ApiProblems.Unauthorized("This account no longer exists.");
        }
        if (!caller.CanManageMembers())
        {
            return ApiProblems.Forbidden("Only owners and admins can invite people.");
        }
        if (!caller.CanGrant(role))
        {
            return ApiProblems.Forbidden("Only owners can invite owners.");
        }
        var normalized = email!.ToUpperInvariant();
        if (await db.Users.AnyAsync(u => u.NormalizedUserName == normalized, cancellationToken))
        {
            return ApiProblems.Conflict("email", "This e-mail address already has an account.");
        }

        var now = services.Time.GetUtcNow();
        var lifetime = services.Options.Value.Lifetime;
        var invitation = await db.Invitations.SingleOrDefaultAsync(
            i => i.OrganizationId == caller.OrganizationId && i.Email == email && i.AcceptedAt == null, cancellationToken);
        string token;
        if (invitation is null)
        {
            (invitation, token) = Invitation.Create(caller.OrganizationId, email, role, caller.Id, now, lifetime);
            db.Invitations.Add(invitation);
        }
        else if (invitation.ExpiresAt <= now)
        {
            // An expired invitation to the same address is renewed rather than duplicated.
            invitation.Role = role;
            token = invitation.Renew(now, lifetime);
        }
        else
        {
            return ApiProblems.Conflict("email", "An invitation to this address is already pending; resend it instead.");
        }
        db.AddToOutbox(new UserInvited(invitation.Id, caller.OrganizationId, email, role.Name(), caller.Id, now));

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return ApiProblems.Conflict("email", "An invitation to this address is already pending; resend it instead.");
        }

        if (await SendAsync(services, invitation, token, cancellationToken) is { } notSent)
        {
            return notSent;
        }
        return TypedResults.Created((string?)null, Describe(invitation, now));
    }

    // Why an invitation can no longer be accepted (nor resent) once its address registered on its own.
    private const string AddressTaken =
        "The address this invitation was sent to has an account of its own now, and an account belongs to one organisation";

    public static async Task<Results<Ok<InvitationResponse>, ProblemHttpResult>> ResendInvite(
        Guid id, HttpContext context, [AsParameters] InvitationServices services, CancellationToken cancellationToken)
    {
        var db = services.Db;
        if (await db.FindCallerAsync(context.User, cancellationToken) is not { } caller)
        {
            return ApiProblems.Unauthorized("This account no longer exists.");
        }
        if (!caller.CanManageMembers())
        {
            return ApiProblems.Forbidden("Only owners and admins can resend invitations.");
        }
        var invitation = await db.Invitations.SingleOrDefaultAsync(
            i => i.Id == id && i.OrganizationId == caller.OrganizationId && i.AcceptedAt == null, cancellationToken);
        if (invitation is null)
        {
            return ApiProblems.NotFound("There is no pending invitation with this id in your organisation.");
        }
        if (!caller.CanGrant(invitation.Role))
        {
            return ApiProblems.Forbidden("Only owners can resend an invitation to become an owner.");
        }
        if (await db.Users.AnyAsync(u => u.NormalizedUserName == invitation.Email.ToUpperInvariant(), cancellationToken))
        {
            return ApiProblems.Conflict("id", $"{AddressTaken}: it cannot be accepted; withdraw it.");
        }

        var now = services.Time.GetUtcNow();
        var token = invitation.Renew(now, services.Options.Value.Lifetime);
        await db.SaveChangesAsync(cancellationToken);
        if (await SendAsync(services, invitation, token, cancellationToken) is { } notSent)
        {
            return notSent;
        }
        return TypedResults.Ok(Describe(invitation, now));
    }

    public static async Task<Results<Created<AuthApi.SessionResponse>, ProblemHttpResult>> AcceptInvite(
        AcceptInviteRequest request, AccountsDbContext db, UserManager<User> users, Sessions sessions, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (!AccountRules.Check(errors,
                ("token", request.Token is null or "" ? "The invitation token is required." : request.Token.Length > 200 ? "This invitation token is not valid." : null),
                ("password", AccountRules.Password(request.Password)),
                ("name", AccountRules.Name(request.Name))))
        {
            return ApiProblems.Invalid(errors);
        }

        var hash = Invitation.Hash(request.Token!);
        var now = time.GetUtcNow();
        var invitation = await db.Invitations.AsNoTracking().SingleOrDefaultAsync(i => i.TokenHash == hash, cancellationToken);
        if (invitation is null || invitation.AcceptedAt is not null)
        {
            return ApiProblems.Invalid("token", "This invitation is not valid or has already been used.");
        }
        if (invitation.ExpiresAt <= now)
        {
            return ApiProblems.Invalid("token", "This invitation has expired; ask for a new one.");
        }

        if (await users.FindByEmailAsync(invitation.Email) is not null)
        {
            // Registered on their own after they were invited: an account belongs to one organisation.
            return ApiProblems.Conflict("token", $"{AddressTaken}: sign in with it, or ask to be invited at another address.");
        }

        var user = User.Create(invitation.Email, request.Name?.Trim(), invitation.OrganizationId, invitation.Role);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);

        // Claimed by a conditional update: a token accepted twice at once, or renewed meanwhile, wins once.
        var claimed = await db.Invitations
            .Where(i => i.Id == invitation.Id && i.AcceptedAt == null && i.TokenHash == hash)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.AcceptedAt, now).SetProperty(i => i.AcceptedBy, user.Id), cancellationToken);
        if (claimed == 0)
        {
            return ApiProblems.Invalid("token", "This invitation is not valid or has already been used.");
        }

        db.AddToOutbox(new UserRegistered(user.Id, user.OrganizationId, user.Email!, user.CreatedAt));
        db.AddToOutbox(new UserJoinedOrganization(user.Id, user.OrganizationId, user.Role.Name(), invitation.Id, now));
        var tokens = sessions.Start(user);
        if (await AuthApi.CreateAsync(users, user, request.Password!) is { } failure)
        {
            return failure;
        }
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Created("/api/auth/me", new AuthApi.SessionResponse(UserResponse.From(user), tokens.AccessToken, tokens.RefreshToken, tokens.ExpiresAt));
    }

    // The invitation is saved before its mail goes: when the mail server fails, the caller learns so (502) and can
    // resend the saved invitation later.
    private static async Task<ProblemHttpResult?> SendAsync(InvitationServices services, Invitation invitation, string token, CancellationToken cancellationToken)
    {
        var organization = await services.Db.Organizations.Where(o => o.Id == invitation.OrganizationId).Select(o => o.Name).SingleAsync(cancellationToken);
        try
        {
            await services.Mail.SendAsync(invitation, token, organization, cancellationToken);
        }
        catch (MailNotSentException ex)
        {
            services.Logger.LogError("Invitation {InvitationId} to {Email} was saved but not mailed: {Reason}", invitation.Id, invitation.Email, ex.Message);
            return TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "Invitation not mailed",
                detail: $"The invitation {invitation.Id} was saved, but {ex.Message}. Resend it with POST /api/users/{invitation.Id}/resend-invite once mail works.");
        }
        services.Logger.LogInformation("Invitation {InvitationId} sent to {Email} (time {TimesSent})", invitation.Id, invitation.Email, invitation.TimesSent);
        return null;
    }

    private static InvitationResponse Describe(Invitation invitation, DateTimeOffset now) => new(
        invitation.Id, invitation.Email, invitation.Role.Name(), invitation.ExpiresAt > now ? "invited" : "expired", invitation.ExpiresAt, invitation.TimesSent);
}
