using System.Collections.Concurrent;
using System.Diagnostics;
using Gateway.ServiceDefaults;
using Gateway.ServiceDefaults.Outbox;
using Gateway.Testing;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;

namespace ServiceDefaults.Tests;

// A message belongs to the trace of the work that sent it — published at once or staged in the outbox and published
// later — and its consumer follows that trace's sampling decision, as a service follows an HTTP caller. Before, an
// unsampled request's messages reached their consumers with no trace at all, and each consumer started (and exported)
// a trace of its own: at 100 chat requests a second, ten a second in Billing alone, beside the sampled ones.
// Alone: the sampler would also see the activities of tests running beside it (TraceSamplingTests says why).
[Collection(nameof(Alone))]
public sealed class TraceAcrossMessagesTests(GatewayInfrastructure infrastructure)
{
    private static readonly ActivitySource Source = new("Gateway.TraceAcrossMessagesTests");

    [Fact]
    public async Task A_message_published_or_staged_in_the_outbox_is_consumed_in_the_trace_that_made_it_sampled_or_not()
    {
        var ct = TestContext.Current.CancellationToken;
        var resources = await infrastructure.IsolateAsync(ct);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration["ConnectionStrings:rabbitmq"] = resources.RabbitMq;
        builder.Configuration["ConnectionStrings:tracedb"] = resources.Database("tracedb");
        builder.Configuration["OTEL_SERVICE_NAME"] = "trace-test";
        builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9"; // nothing listens: export fails quietly
        var consumed = new Consumed();
        builder.Services.AddSingleton(consumed);
        builder.ConfigureOpenTelemetry();
        builder.AddMessaging(bus => bus.AddConsumer<ProbeConsumer>());
        builder.AddPostgresDbContext<TraceDbContext>("tracedb");
        builder.AddOutbox<TraceDbContext>();
        builder.Services.Configure<MassTransitHostOptions>(options => options.WaitUntilStarted = true);
        using var host = builder.Build();
        await using (var scope = host.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<TraceDbContext>().Database.EnsureCreatedAsync(ct); // the outbox table
        }
        await host.StartAsync(ct);
        _ = host.Services.GetRequiredService<TracerProvider>();
        try
        {
            var sent = new Dictionary<(string How, bool Sampled), ActivityTraceId>();
            foreach (var sampled in new[] { false, true })
            {
                var flags = sampled ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None;
                // As a request reaches a service: under its caller's trace and decision.
                using (var request = Source.StartActivity("request", ActivityKind.Server, new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), flags, isRemote: true)))
                {
                    Assert.Equal(sampled, request!.Recorded);
                    sent[("published", sampled)] = request.TraceId;
                    await host.Services.GetRequiredService<IBus>().Publish(new TraceProbe("published", sampled), ct);
                }
                using (var request = Source.StartActivity("request", ActivityKind.Server, new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), flags, isRemote: true)))
                {
                    sent[("outbox", sampled)] = request!.TraceId;
                    await using var scope = host.Services.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<TraceDbContext>();
                    db.AddToOutbox(new TraceProbe("outbox", sampled));
                    await db.SaveChangesAsync(ct);
                }
            }

            await Eventually.UntilAsync(() => Task.FromResult(consumed.Count), count => count == sent.Count, TimeSpan.FromSeconds(20));
            Assert.All(sent, message =>
            {
                var (traceId, recorded) = consumed[message.Key];
                Assert.Equal(message.Value, traceId);
                Assert.Equal(message.Key.Sampled, recorded);
            });
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    public sealed record TraceProbe(string How, bool Sampled);

    public sealed class Consumed : ConcurrentDictionary<(string How, bool Sampled), (ActivityTraceId TraceId, bool Recorded)>;

    public sealed class ProbeConsumer(Consumed consumed) : IConsumer<TraceProbe>
    {
        public Task Consume(ConsumeContext<TraceProbe> context)
        {
            var current = Activity.Current!;
            consumed[(context.Message.How, context.Message.Sampled)] = (current.TraceId, current.Recorded);
            return Task.CompletedTask;
        }
    }

    public sealed class TraceDbContext(DbContextOptions<TraceDbContext> options) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddOutbox();
    }
}
