using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Devices.Infrastructure;
using Gateway.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Devices.Tests;

// Identity, Devices and the edge, shared by the tests of a class; every test signs up its own
// organisations, so tests do not see each other's devices. Silence is short so presence tests are quick.
public class DevicesSystem(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    public const int DeviceLimit = 3;
    public const int MaxSocketsPerUser = 4;
    public static readonly TimeSpan OfflineAfter = TimeSpan.FromSeconds(5); // long enough that a loaded CI machine (load 20) does not miss it between a heartbeat and the next read

    public GatewaySystem System { get; private set; } = null!;

    protected virtual GatewayService[] Services => [GatewayService.Identity, GatewayService.Devices];

    protected virtual Dictionary<string, string?> Settings => new()
    {
        ["Devices:Fleet:DeviceLimit"] = DeviceLimit.ToString(),
        ["Devices:LiveEvents:MaxSocketsPerUser"] = MaxSocketsPerUser.ToString(),
        ["Devices:Presence:OfflineAfter"] = OfflineAfter.ToString(),
        ["Devices:Presence:SweepInterval"] = "00:00:00.200",
        ["Devices:Presence:HeartbeatInterval"] = "00:00:01",
        ["Devices:Presence:ReconcileInterval"] = "00:00:01",
    };

    public async ValueTask InitializeAsync() =>
        System = await GatewaySystem.StartAsync(infrastructure, Services, settings: Settings);

    public ValueTask DisposeAsync() => System.DisposeAsync();

    public IServiceProvider Devices => System[GatewayService.Devices].Provider;

    public Task<TestUser> RegisterUserAsync() => System.RegisterUserAsync();

    public HttpClient Edge() => System.CreateEdgeClient();

    // A device's own client: through the edge, with its credential.
    public HttpClient DeviceClient(string deviceToken)
    {
        var client = System.CreateEdgeClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", deviceToken);
        return client;
    }

    // Someone who joined the owner's organisation by invitation with this role.
    public Task<TestUser> InviteAsync(TestUser owner, string role) => System.InviteAsync(owner, role);

    public async Task InDatabaseAsync(Func<DevicesDbContext, Task> change)
    {
        await using var scope = Devices.CreateAsyncScope();
        await change(scope.ServiceProvider.GetRequiredService<DevicesDbContext>());
    }

    public Task PublishAsync<T>(T message) where T : class => Devices.GetRequiredService<IBus>().Publish(message, Api.Ct);

    // The caller token the edge would forward for this user (for connecting to one instance directly).
    public string CallerTokenFor(TestUser user, IServiceProvider instance, string role = "owner") =>
        instance.GetRequiredService<CallerTokenIssuer>().Issue(
            new Caller(user.UserId, user.OrganizationId, role, user.Email, CallerMethods.User));
}

public sealed record RegisteredDevice(Guid Id, string ActivationCode, DateTimeOffset ExpiresAt);

public sealed record ActivatedDevice(Guid Id, string Token);

public static class Api
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<RegisteredDevice> RegisterDeviceAsync(this TestUser user, string name = "Front desk", string[]? labels = null)
    {
        using var response = await user.Client.PostAsJsonAsync("/api/devices/register", new { name, labels = labels ?? ["lobby"] }, Ct);
        var body = await response.ShouldBe(HttpStatusCode.Created);
        return new RegisteredDevice(body.GetProperty("id").GetGuid(), body.GetProperty("activationCode").GetString()!, body.GetProperty("expiresAt").GetDateTimeOffset());
    }

    public static async Task<HttpResponseMessage> ActivateAsync(this HttpClient edge, string code) =>
        await edge.PostAsJsonAsync("/api/devices/activate", new { activationCode = code }, Ct);

    public static async Task<ActivatedDevice> RegisterAndActivateAsync(this TestUser user, DevicesSystem system, string name = "Front desk", string[]? labels = null)
    {
        var registered = await user.RegisterDeviceAsync(name, labels);
        using var edge = system.Edge();
        using var response = await edge.ActivateAsync(registered.ActivationCode);
        var body = await response.ShouldBe(HttpStatusCode.OK);
        return new ActivatedDevice(body.GetProperty("deviceId").GetGuid(), body.GetProperty("deviceToken").GetString()!);
    }

    public static async Task<HttpResponseMessage> HeartbeatAsync(this DevicesSystem system, ActivatedDevice device, object? body = null)
    {
        using var client = system.DeviceClient(device.Token);
        return await client.PostAsJsonAsync($"/api/devices/{device.Id}/heartbeat", body ?? new { version = "1.4.2", metrics = new { cpu = 0.25, temperature = 41.5 } }, Ct);
    }

    public static async Task<JsonElement> GetJsonAsync(this TestUser user, string url)
    {
        using var response = await user.Client.GetAsync(url, Ct);
        return await response.ShouldBe(HttpStatusCode.OK);
    }

}
