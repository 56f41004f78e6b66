using System.Text.Json;
using Gateway.Contracts;

namespace Gateway.Devices.LiveEvents;

// What a dashboard receives on the socket: {id, type, data, at}. Ids count up per organisation, so a
// client that reconnects with the last id it saw gets exactly what it missed. An event for one user (ForUser: their
// generations, their assistant's status) goes to that user's sockets only, live, without an id: it is not the organisation's, so it is not in
// the organisation's replay log.
public sealed record LiveEvent(Guid OrganizationId, string Type, object Data, DateTimeOffset At, Guid? ForUser = null)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // The event without its id; the log adds the id when it records it.
    public string ToJsonWithoutId() => JsonSerializer.Serialize(new { type = Type, data = Data, at = At }, Json);

    public static LiveEvent? From(object message) => message switch
    {
        DeviceRegistered m => new(m.OrganizationId, "device_registered", m, m.RegisteredAt),
        DeviceActivated m => new(m.OrganizationId, "device_activated", m, m.ActivatedAt),
        DeviceStatusChanged m => new(m.OrganizationId, $"device_{m.Status}", m, m.ChangedAt),
        DeviceUpdated m => new(m.OrganizationId, "device_updated", m, m.UpdatedAt),
        DeviceRemoved m => new(m.OrganizationId, "device_removed", m, m.RemovedAt),
        CustomerSessionSubmitted m => new(m.OrganizationId, "session_pending", m, m.SubmittedAt),
        CustomerSessionApproved m => new(m.OrganizationId, "session_approved", m, m.DecidedAt),
        CustomerSessionRejected m => new(m.OrganizationId, "session_rejected", m, m.DecidedAt),
        UserInvited m => new(m.OrganizationId, "user_invited", m, m.InvitedAt),
        InvitationWithdrawn m => new(m.OrganizationId, "user_invitation_withdrawn", m, m.WithdrawnAt),
        UserJoinedOrganization m => new(m.OrganizationId, "user_joined", m, m.JoinedAt),
        UserRoleChanged m => new(m.OrganizationId, "user_role_changed", m, m.ChangedAt),
        UserDeleted m => new(m.OrganizationId, "user_removed", m, m.DeletedAt),
        GenerationStarted m => new(Guid.Empty, "generation_started", m, m.StartedAt, m.UserId),
        GenerationProgressed m => new(Guid.Empty, "generation_progress", m, m.At, m.UserId),
        GenerationCompleted m => new(Guid.Empty, "generation_completed", m, m.CompletedAt, m.UserId),
        GenerationFailed m => new(Guid.Empty, "generation_failed", m, m.FailedAt, m.UserId),
        AssistantStatusChanged m => new(Guid.Empty, "assistant_status", m, m.ChangedAt, m.UserId),
        _ => null,
    };
}

// One event as sent: its id and its UTF-8 JSON.
public sealed record LiveFrame(long Id, ReadOnlyMemory<byte> Utf8Json)
{
    public static LiveFrame WithoutId(LiveEvent evt) =>
        new(0, System.Text.Encoding.UTF8.GetBytes($"{{\"id\":null,{evt.ToJsonWithoutId()[1..]}"));
}
