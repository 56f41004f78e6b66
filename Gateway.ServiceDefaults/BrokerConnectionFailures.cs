using MassTransit;

namespace Gateway.ServiceDefaults;

// While RabbitMQ cannot be reached, MassTransit logs every reconnect attempt with the exception's stack trace
// ("Connection Failed", "Retrying … Broker unreachable": 1,252 lines from three services in a 15 s outage). That
// category is quieted to errors (Messaging.cs); its endpoints' faults and recoveries come here instead, one line
// when the connection fails, a summary while it keeps failing, one when an endpoint is ready again.
public sealed class BrokerConnectionFailures(RepeatedFailures failures) : IReceiveEndpointObserver
{
    public const string What = "Connecting to RabbitMQ";

    public Task Faulted(ReceiveEndpointFaulted faulted)
    {
        failures.Record(What, faulted.Exception is { } exception ? RepeatedFailures.Reason(exception) : "faulted");
        return Task.CompletedTask;
    }

    public Task Ready(ReceiveEndpointReady ready)
    {
        failures.Recovered(What);
        return Task.CompletedTask;
    }

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;
}
