using Gateway.Contracts;
using MassTransit;

namespace Gateway.Chat.Assistants;

// A deleted account's assistant stops and its workspace is deleted. A second delivery finds nothing left.
public sealed class UserDeletedConsumer(AssistantLifecycle lifecycle) : IConsumer<UserDeleted>
{
    public Task Consume(ConsumeContext<UserDeleted> context) => lifecycle.RemoveAsync(context.Message.UserId, context.CancellationToken);
}
