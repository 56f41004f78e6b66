namespace Gateway.Contracts;

// Published by Identity when an account is created; Billing grants the sign-up credits once per UserId.
public sealed record UserRegistered(Guid UserId, Guid OrganizationId, string Email, DateTimeOffset RegisteredAt);

public sealed record UserDeleted(Guid UserId, Guid OrganizationId, DateTimeOffset DeletedAt);
