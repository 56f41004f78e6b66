using System.Net.Http.Headers;
using System.Net.Http.Json;
using Gateway.Hosting.Dashboard.Telemetry;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Dashboard.Tests;

/// <summary>A Kestrel app on 127.0.0.1 with the OTLP receiver and the telemetry API, as the AppHost will host them.</summary>
internal sealed class TelemetryServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private TelemetryServer(WebApplication app, Uri baseAddress)
    {
        this.app = app;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress };
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public static async Task<TelemetryServer> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        builder.Services.AddTelemetryStore(builder.Configuration);

        var app = builder.Build();
        app.MapOtlpReceiver();
        app.MapTelemetryApi();
        await app.StartAsync(TestContext.Current.CancellationToken);

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new TelemetryServer(app, new Uri(address + "/"));
    }

    public Uri Endpoint(string signal) => new(BaseAddress, "v1/" + signal);

    public async Task<HttpResponseMessage> PostAsync(string signal, IMessage request)
    {
        var content = new ByteArrayContent(request.ToByteArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        return await Client.PostAsync(Endpoint(signal), content, TestContext.Current.CancellationToken);
    }

    public async Task<T> GetAsync<T>(string path) =>
        (await Client.GetFromJsonAsync<T>(path, TestContext.Current.CancellationToken))!;

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await app.DisposeAsync();
    }
}
