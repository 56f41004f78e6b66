namespace Gateway.Contracts;

// Published by Devices through its outbox. Every event carries the OrganizationId it belongs to, so the
// live channel can route it to that organisation's sockets and to nobody else's.

// A device was registered and waits for activation (its activation code is never in the event).
// Handled once per DeviceId.
public sealed record DeviceRegistered(Guid DeviceId, Guid OrganizationId, string Name, IReadOnlyList<string> Labels, Guid RegisteredBy, DateTimeOffset RegisteredAt);

// The device exchanged its activation code for its own credential (never in the event). Handled once per DeviceId.
public sealed record DeviceActivated(Guid DeviceId, Guid OrganizationId, DateTimeOffset ActivatedAt);

// Presence changed: "online" on a heartbeat after silence, "offline" when the sweeper found it silent.
// Handled once per ChangeId.
public sealed record DeviceStatusChanged(Guid ChangeId, Guid DeviceId, Guid OrganizationId, string PreviousStatus, string Status, DateTimeOffset ChangedAt);

// An owner or admin renamed or relabelled the device; what it is called and labelled now. Handled once per ChangeId.
public sealed record DeviceUpdated(Guid ChangeId, Guid DeviceId, Guid OrganizationId, string Name, IReadOnlyList<string> Labels, Guid UpdatedBy, DateTimeOffset UpdatedAt);

// The device was deleted; its credential stops working at once. Handled once per DeviceId.
public sealed record DeviceRemoved(Guid DeviceId, Guid OrganizationId, Guid RemovedBy, DateTimeOffset RemovedAt);

// A device handed in a customer session that now waits for an owner's or admin's approval. Handled once per SessionId.
public sealed record CustomerSessionSubmitted(Guid SessionId, Guid OrganizationId, Guid DeviceId, string? CustomerName, DateTimeOffset SubmittedAt);

// A pending session was approved (a session is decided once). Handled once per SessionId.
public sealed record CustomerSessionApproved(Guid SessionId, Guid OrganizationId, Guid DeviceId, Guid DecidedBy, DateTimeOffset DecidedAt);

// A pending session was rejected (a session is decided once). Handled once per SessionId.
public sealed record CustomerSessionRejected(Guid SessionId, Guid OrganizationId, Guid DeviceId, Guid DecidedBy, string? Reason, DateTimeOffset DecidedAt);
