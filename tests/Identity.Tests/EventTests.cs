using System.Threading.Channels;
using Gateway.Contracts;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using static Identity.Tests.Api;

namespace Identity.Tests;

public sealed class EventTests(IdentitySystem identity) : IClassFixture<IdentitySystem>
{
    [Fact]
    public async Task Registration_publishes_UserRegistered_over_the_broker()
    {
        var received = Channel.CreateUnbounded<UserRegistered>();
        var bus = identity.Identity.GetRequiredService<IBus>();
        var endpoint = bus.ConnectReceiveEndpoint($"identity-tests-{Guid.NewGuid():N}", e =>
            e.Handler<UserRegistered>(context => received.Writer.WriteAsync(context.Message).AsTask()));
        await endpoint.Ready.WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        using var edge = identity.Edge();
        var email = NewEmail();

        var session = await edge.RegisterAsync(email);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        UserRegistered message;
        do
        {
            message = await received.Reader.ReadAsync(timeout.Token);
        }
        while (message.Email != email);
        Assert.Equal(session.UserId, message.UserId);
        Assert.Equal(session.OrganizationId, message.OrganizationId);
        await endpoint.StopAsync(Cancel);
    }
}
