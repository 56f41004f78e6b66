using System.Data.Common;
using Gateway.ServiceDefaults;
using Gateway.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ServiceDefaults.Tests;

// ServiceDefaults' messaging retries a consumer that hits a database hiccup (a deadlock Postgres broke, a
// dropped connection) instead of giving the message up to the _error queue: a lost UsageRecorded would
// be a lost charge.
public sealed class MessageRetryTests(GatewayInfrastructure infrastructure)
{
    [Fact]
    public async Task A_consumer_that_fails_on_the_database_twice_is_retried_until_it_succeeds()
    {
        var ct = TestContext.Current.CancellationToken;
        var resources = await infrastructure.IsolateAsync(ct);
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["ConnectionStrings:rabbitmq"] = resources.RabbitMq;
        builder.Configuration["OTEL_SERVICE_NAME"] = "retry-test";
        var attempts = new Attempts();
        builder.Services.AddSingleton(attempts);
        builder.AddMessaging(bus => bus.AddConsumer<FlakyConsumer>());
        // The probe is published right after the start: its queue must be bound by then, or the message has nowhere to go.
        builder.Services.Configure<MassTransitHostOptions>(options => options.WaitUntilStarted = true);
        using var host = builder.Build();
        await host.StartAsync(ct);
        try
        {
            await host.Services.GetRequiredService<IBus>().Publish(new RetryProbe(Guid.NewGuid()), ct);

            await Eventually.UntilAsync(() => Task.FromResult(attempts.Succeeded), succeeded => succeeded, TimeSpan.FromSeconds(20));
            Assert.Equal(3, attempts.Count);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    public sealed record RetryProbe(Guid Id);

    public sealed class Attempts
    {
        public int Count;
        public volatile bool Succeeded;
    }

    public sealed class FlakyConsumer(Attempts attempts) : IConsumer<RetryProbe>
    {
        public Task Consume(ConsumeContext<RetryProbe> context)
        {
            if (Interlocked.Increment(ref attempts.Count) <= 2)
            {
                throw new DatabaseHiccup();
            }
            attempts.Succeeded = true;
            return Task.CompletedTask;
        }
    }

    private sealed class DatabaseHiccup() : DbException("deadlock detected");
}
