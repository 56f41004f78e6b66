using System.Collections.Concurrent;
using System.Diagnostics;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace ServiceDefaults.Tests;

// A query string's values never reach a span: the live channel takes ?access_token= and an invitation's link ?token=.
// The AppHost turns OpenTelemetry's redaction off for local runs (as Aspire does for every project), and the first
// device trial found users' access tokens in the dashboard's store on disk.
// Alone: the listener below sees the HTTP activities of tests running beside it.
[Collection(nameof(Alone))]
public sealed class TraceRedactionTests
{
    [Fact]
    public async Task Query_values_are_redacted_in_server_and_client_spans_even_where_the_environment_turns_redaction_off()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9"; // nothing listens: export fails quietly
        builder.Configuration[Telemetry.TracesPerSecondSetting] = "0";
        // What the AppHost sets for every project it starts.
        builder.Configuration["OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION"] = "true";
        builder.Configuration["OTEL_DOTNET_EXPERIMENTAL_HTTPCLIENT_DISABLE_URL_QUERY_REDACTION"] = "true";
        builder.ConfigureOpenTelemetry();
        await using var app = builder.Build();
        app.MapGet("/live", () => "ok");
        _ = app.Services.GetRequiredService<TracerProvider>();
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        var tags = new ConcurrentBag<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" or "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                foreach (var (name, value) in activity.Tags.Where(t => t.Key is "url.query" or "url.full"))
                {
                    tags.Add($"{name}={value}");
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        using var client = new HttpClient();
        var secret = Guid.NewGuid().ToString("N");
        Assert.Equal("ok", await client.GetStringAsync($"{address}/live?access_token={secret}&lastEventId=7", TestContext.Current.CancellationToken));
        await app.StopAsync(TestContext.Current.CancellationToken);

        var ours = tags.Where(t => t.Contains("access_token", StringComparison.Ordinal) || t.Contains("/live", StringComparison.Ordinal)).ToList();
        Assert.Contains("url.query=?access_token=Redacted&lastEventId=Redacted", ours);
        Assert.Contains(ours, t => t.StartsWith("url.full=", StringComparison.Ordinal));
        Assert.All(ours, t => Assert.DoesNotContain(secret, t));
    }
}
