namespace Gateway.Contracts;

// Published by Identity when an account is created; Billing grants the sign-up credits once per UserId.
public sealed record UserRegistered(Guid UserId, Guid OrganizationId, string Email, DateTimeOffset RegisteredAt);

// Published when an account is deleted (removed from its organisation); handled once per UserId.
public sealed record UserDeleted(Guid UserId, Guid OrganizationId, DateTimeOffset DeletedAt);

// A sign-in session ended: logout, a reused refresh token, or the account's removal. Every edge replica refuses
// the access tokens issued for it (their `sid`) from then on, rather than letting them run to their expiry;
// after AccessTokensValidUntil none is left to refuse. Handling it twice does no harm.
public sealed record SessionEnded(Guid SessionId, Guid UserId, DateTimeOffset EndedAt, DateTimeOffset AccessTokensValidUntil);

// A user became a member of an organisation: as its owner at sign-up (InvitationId null) or by accepting
// an invitation. Handled once per (UserId, OrganizationId).
public sealed record UserJoinedOrganization(Guid UserId, Guid OrganizationId, string Role, Guid? InvitationId, DateTimeOffset JoinedAt);

// A member's role changed (owner, admin, member). Handled once per ChangeId.
public sealed record UserRoleChanged(Guid ChangeId, Guid UserId, Guid OrganizationId, string PreviousRole, string Role, Guid ChangedBy, DateTimeOffset ChangedAt);

// Someone was invited to an organisation (the invitation token is never in the event). Handled once per
// (InvitationId, InvitedAt): a renewed invitation is published again.
public sealed record UserInvited(Guid InvitationId, Guid OrganizationId, string Email, string Role, Guid InvitedBy, DateTimeOffset InvitedAt);

// A pending invitation was withdrawn (DELETE /api/users/{invitationId}); its link no longer works. Handled once per
// InvitationId: an invitation is withdrawn at most once.
public sealed record InvitationWithdrawn(Guid InvitationId, Guid OrganizationId, string Email, string Role, Guid WithdrawnBy, DateTimeOffset WithdrawnAt);
