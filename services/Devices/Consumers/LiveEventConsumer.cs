using Gateway.Contracts;
using Gateway.Devices.LiveEvents;
using MassTransit;

namespace Gateway.Devices.Consumers;

// The events the live channel carries: Devices' own and Identity's user events. Each is recorded in the
// organisation's replay log (idempotent per message id, so every instance gets the same event id).
public abstract class LiveEventConsumer(LiveEventLog log) :
    IConsumer<DeviceRegistered>, IConsumer<DeviceActivated>, IConsumer<DeviceStatusChanged>, IConsumer<DeviceUpdated>, IConsumer<DeviceRemoved>,
    IConsumer<CustomerSessionSubmitted>, IConsumer<CustomerSessionApproved>, IConsumer<CustomerSessionRejected>,
    IConsumer<UserInvited>, IConsumer<InvitationWithdrawn>, IConsumer<UserJoinedOrganization>, IConsumer<UserRoleChanged>, IConsumer<UserDeleted>
{
    public Task Consume(ConsumeContext<DeviceRegistered> context) => RecordAsync(context);
    public Task Consume(ConsumeContext<DeviceActivated> context) => RecordAsync(context);
    public Task Consume(ConsumeContext<DeviceStatusChanged> context) => RecordAsync(context);
    public Task Consume(ConsumeContext<DeviceUpdated> context) => RecordAsync(context);
    public Task Consume(ConsumeContext<DeviceRemoved> context) => RecordAsync(context);
    public Task Consume(ConsumeContext<CustomerSessionSubmitted> context) => RecordAsync(context);
    public Task Consume(ConsumeContext<CustomerSessionApproved> context) => RecordAsync(context);
    public Task Consume(ConsumeContext<CustomerSessionRejected> context) => RecordAsync(context);
    public Task Consume(ConsumeContext<UserInvited> context) => RecordAsync(context);
    public Task Consume(ConsumeContext<InvitationWithdrawn> context) => RecordAsync(context);
    public Task Consume(ConsumeContext<UserJoinedOrganization> context) => RecordAsync(context);
    public Task Consume(ConsumeContext<UserRoleChanged> context) => RecordAsync(context);
    public Task Consume(ConsumeContext<UserDeleted> context) => RecordAsync(context);

    protected virtual Task RecordAsync<T>(ConsumeContext<T> context) where T : class =>
        LiveEvent.From(context.Message) is { } evt
            ? log.AppendAsync(context.MessageId ?? NewId.NextGuid(), evt)
            : Task.CompletedTask;
}

// One durable queue shared by the instances: the replay log misses nothing even while no instance holds
// a socket or one is restarting.
public sealed class LiveEventRecorder(LiveEventLog log) : LiveEventConsumer(log);

// One temporary queue per instance: every instance pushes every event to the sockets it holds, and closes those
// whose authorisation ended (the SessionEnded every edge replica hears too). A user's own events (their generations, their assistant's status)
// are heard here only: they go to that user's sockets, live, and are not in the organisation's replay log.
public sealed class LiveEventBroadcaster(LiveEventLog log, LiveEventHub hub, ILogger<LiveEventBroadcaster> logger)
    : LiveEventConsumer(log), IConsumer<SessionEnded>,
    IConsumer<GenerationStarted>, IConsumer<GenerationProgressed>, IConsumer<GenerationCompleted>, IConsumer<GenerationFailed>,
    IConsumer<AssistantStatusChanged>
{
    private readonly LiveEventLog _log = log;

    public Task Consume(ConsumeContext<GenerationStarted> context) => SendToOwner(context.Message);
    public Task Consume(ConsumeContext<GenerationProgressed> context) => SendToOwner(context.Message);
    public Task Consume(ConsumeContext<GenerationCompleted> context) => SendToOwner(context.Message);
    public Task Consume(ConsumeContext<GenerationFailed> context) => SendToOwner(context.Message);
    public Task Consume(ConsumeContext<AssistantStatusChanged> context) => SendToOwner(context.Message);

    private Task SendToOwner(object message)
    {
        if (LiveEvent.From(message) is { ForUser: { } owner } evt)
        {
            hub.SendToUser(owner, LiveFrame.WithoutId(evt));
        }
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<SessionEnded> context)
    {
        hub.EndSession(context.Message.SessionId, context.Message.AccessTokensValidUntil);
        return Task.CompletedTask;
    }

    protected override async Task RecordAsync<T>(ConsumeContext<T> context)
    {
        switch (context.Message)
        {
            case UserDeleted deleted:
                hub.DropUser(deleted.UserId, exceptOrganizationId: null, "The account was deleted.");
                break;
            case UserJoinedOrganization joined:
                hub.DropUser(joined.UserId, exceptOrganizationId: joined.OrganizationId, "The account moved to another organisation.");
                break;
        }
        if (LiveEvent.From(context.Message) is not { } evt || hub.Count == 0)
        {
            return;
        }
        LiveFrame frame;
        try
        {
            frame = await _log.AppendAsync(context.MessageId ?? NewId.NextGuid(), evt);
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
        {
            // Without Redis the event cannot be given an id; live clients still get it (id null), and the
            // recorder's retries put it in the log for those who resume later.
            logger.LogWarning("Live event {Type} sent without an id: {Reason}", evt.Type, ex.Message);
            frame = LiveFrame.WithoutId(evt);
        }
        hub.Broadcast(evt.OrganizationId, frame);
    }
}
