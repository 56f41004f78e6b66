using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.MockLlm;

// The mock as a program (Program.cs) or inside a test or benchmark process (StartAsync).
public sealed class MockLlmServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MockLlmServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    // http://127.0.0.1:PORT/ — the OpenAI base URL is Address + "v1".
    public Uri Address { get; }

    public Uri BaseUrl => new(Address, "v1/");

    public MockLlmStats Stats => _app.Services.GetRequiredService<MockLlmStats>();

    public static WebApplication Build(string[] args, MockLlmOptions? options = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var configured = builder.Services.AddOptions<MockLlmOptions>().BindConfiguration(MockLlmOptions.Section);
        if (options is not null)
        {
            configured.Configure(o => Copy(options, o));
        }
        builder.Services.AddSingleton<MockLlmStats>();
        var app = builder.Build();
        app.MapCompletions();
        app.MapEmbeddings();
        app.MapMessages();
        return app;
    }

    public static async Task<MockLlmServer> StartAsync(MockLlmOptions? options = null, int port = 0)
    {
        var app = Build([$"--urls=http://127.0.0.1:{port}"], options ?? new MockLlmOptions());
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new MockLlmServer(app, new Uri(address.TrimEnd('/') + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(TimeSpan.FromSeconds(2));
        await _app.DisposeAsync();
    }

    // Options given in code replace the bound ones wholesale (records are immutable; copy their values).
    private static void Copy(MockLlmOptions from, MockLlmOptions to)
    {
        foreach (var property in typeof(MockLlmOptions).GetProperties())
        {
            property.SetValue(to, property.GetValue(from));
        }
    }
}
