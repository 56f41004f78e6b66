using System.Diagnostics;
using MassTransit;
using MassTransit.Logging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.ServiceDefaults;

public static class Messaging
{
    // MassTransit on RabbitMQ (ConnectionStrings:rabbitmq, an amqp:// URI). Queues are prefixed with the
    // service's name so two services that consume the same event each get their own copy.
    public static IHostApplicationBuilder AddMessaging(this IHostApplicationBuilder builder, Action<IBusRegistrationConfigurator>? configure = null)
    {
        var uri = new Uri(builder.Configuration.RequireConnectionString("rabbitmq"));
        var serviceName = ServiceName(builder);

        // Its warnings and information are mostly the broker connection's retries, each with a stack trace;
        // BrokerConnectionFailures logs those summarised. A consumer's fault (R-FAULT) is an error and still shows.
        builder.Logging.AddFilter("MassTransit", LogLevel.Error);
        builder.Services.AddRepeatedFailures().AddReceiveEndpointObserver<BrokerConnectionFailures>();

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(serviceName, includeNamespace: false));
            bus.ConfigureHealthCheckOptions(health =>
            {
                health.Name = "rabbitmq";
                health.Tags.Add(Health.ReadyTag);
            });
            configure?.Invoke(bus);

            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(uri, host =>
                {
                    var credentials = Uri.UnescapeDataString(uri.UserInfo).Split(':', 2);
                    if (credentials is [var user, var password])
                    {
                        host.Username(user);
                        host.Password(password);
                    }
                });
                // A database hiccup (a deadlock Postgres broke, a dropped connection, a timeout) is retried in place
                // a few times before the message is given up to the _error queue; every consumer here is
                // idempotent (transfer ids, hold ids, user ids), so a retry cannot apply anything twice.
                rabbit.UseMessageRetry(retry =>
                {
                    retry.Intervals(50, 250, 1_000, 3_000);
                    retry.Handle<System.Data.Common.DbException>();
                    retry.Handle<TimeoutException>();
                });
                // Both pipes: a publish does not pass through the send pipe (TraceAcrossMessagesTests fails without the second).
                rabbit.ConfigureSend(send => send.UseSendExecute(KeepUnsampledTrace));
                rabbit.ConfigurePublish(publish => publish.UseExecute(KeepUnsampledTrace));
                rabbit.ConfigureEndpoints(context);
            });
        });

        return builder;
    }

    // MassTransit carries the trace to the consumer in the header of its send span; but OpenTelemetry makes no span under
    // an unsampled parent, and then MassTransit sends no header, so the consumer started a trace of its own (a Billing
    // trace for each unsampled chat request's reservation, found in the dashboard's data). The current activity's
    // context is sent instead, with its "not sampled" flag: the consumer follows it, as a service follows an HTTP caller.
    private static void KeepUnsampledTrace(SendContext context)
    {
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C, Recorded: false } current
            && !context.Headers.TryGetHeader(DiagnosticHeaders.ActivityId, out _))
        {
            context.Headers.Set(DiagnosticHeaders.ActivityId, current.Id);
        }
    }

    public static string ServiceName(IHostApplicationBuilder builder) =>
        builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name
            ? name
            : builder.Environment.ApplicationName.Split('.')[^1].ToLowerInvariant();
}
