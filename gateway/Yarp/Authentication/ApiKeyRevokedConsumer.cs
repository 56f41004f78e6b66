using Gateway.Contracts;
using MassTransit;

namespace Gateway.Edge.Authentication;

// Each edge instance has its own queue for this (see AddEdgeServices), so every replica forgets the key.
public sealed class ApiKeyRevokedConsumer(ApiKeyResolver resolver) : IConsumer<ApiKeyRevoked>
{
    public Task Consume(ConsumeContext<ApiKeyRevoked> context) => resolver.ForgetAsync(context.Message.KeyHash);
}
