using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Gateway.Devices.Fleet;
using Gateway.Devices.Infrastructure;
using Gateway.Devices.Presence;
using Gateway.ServiceDefaults;
using Gateway.ServiceDefaults.Outbox;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.Devices.Apis;

// What devices themselves call: activation with the typed code (no credential yet), then heartbeats with
// the credential activation gave them.
public static class DeviceConnectionApi
{
    private const string CodeRefused = "The activation code is not valid, or has been used or has expired.";
    private const int MaxMetrics = 32;
    private const int MaxMetricNameLength = 64;
    private const int MaxVersionLength = 64;

    public static IEndpointRouteBuilder MapDeviceConnectionApi(this IEndpointRouteBuilder app)
    {
        var devices = app.MapGroup("/api/devices").WithTags("Device connection");
        devices.MapPost("/activate", ActivateDevice).WithSummary("A device trades its activation code for its own token.").AllowAnonymous();
        // The body is optional and read by the handler (a bare POST is a heartbeat), so the reference is told of it.
        devices.MapPost("/{id}/heartbeat", RecordHeartbeat).WithSummary("A device says it is alive, optionally with its version and metrics.").AllowAnonymous().WithMetadata(new CalledByDevices())
            .Accepts<HeartbeatRequest>(isOptional: true, "application/json");
        return app;
    }

    public sealed record ActivateDeviceRequest([property: Required] string? ActivationCode);

    // The token is shown here once; only its hash is kept.
    public sealed record ActivatedDeviceResponse(Guid DeviceId, string DeviceToken, int HeartbeatIntervalSeconds);

    public sealed record HeartbeatRequest(string? Version, Dictionary<string, double>? Metrics);

    public sealed record HeartbeatResponse(Guid DeviceId, string Status, DateTimeOffset ReceivedAt, int HeartbeatIntervalSeconds);

    public sealed record ActivationServices(DevicesDbContext Db, IOptions<PresenceOptions> Presence, TimeProvider Time);

    // Used, expired and unknown codes are refused in the same words, so a guess learns nothing.
    public static async Task<Results<Ok<ActivatedDeviceResponse>, ProblemHttpResult>> ActivateDevice(
        ActivateDeviceRequest request, [AsParameters] ActivationServices services, CancellationToken cancellationToken)
    {
        if (request.ActivationCode is null)
        {
            return ApiProblems.Invalid("activationCode", "An activation code is required.");
        }
        if (ActivationCode.Normalize(request.ActivationCode) is not { } code)
        {
            return ApiProblems.Invalid("activationCode", CodeRefused);
        }

        var hash = ActivationCode.Hash(code);
        var now = services.Time.GetUtcNow();
        var device = await services.Db.Devices.SingleOrDefaultAsync(d => d.ActivationCodeHash == hash, cancellationToken);
        if (device is null || !device.CanActivate(now))
        {
            return ApiProblems.Invalid("activationCode", CodeRefused);
        }
        var (token, activated) = device.Activate(now);
        services.Db.AddToOutbox(activated);
        try
        {
            await services.Db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            // The same code was used by a concurrent request, which won.
            return ApiProblems.Invalid("activationCode", CodeRefused);
        }
        return TypedResults.Ok(new ActivatedDeviceResponse(device.Id, token, (int)services.Presence.Value.HeartbeatInterval.TotalSeconds));
    }

    public sealed record HeartbeatServices(DevicesDbContext Db, PresenceTracker Tracker, IOptions<PresenceOptions> Presence, TimeProvider Time);

    public static async Task<Results<Ok<HeartbeatResponse>, ProblemHttpResult>> RecordHeartbeat(
        Guid id, HttpRequest http, [AsParameters] HeartbeatServices services, CancellationToken cancellationToken)
    {
        if (await services.Db.FindPresentingDeviceAsync(http, cancellationToken) is not { } device)
        {
            return ApiProblems.Unauthorized(DeviceCredentials.Refused);
        }
        if (device.Id != id)
        {
            return ApiProblems.NotFound("There is no such device.");
        }

        // The body is optional: a bare POST is a heartbeat too, a chunked one with nothing in it included (the device trial
        // got a 400 or a 415 for it, by its Content-Type).
        var request = new HeartbeatRequest(null, null);
        if (http.ContentLength is > 0 || http.Headers.TransferEncoding.Count > 0 && !await IsEmptyAsync(http, cancellationToken))
        {
            try
            {
                request = await http.ReadFromJsonAsync<HeartbeatRequest>(cancellationToken) ?? request;
            }
            catch (JsonException ex)
            {
                // Described like any bound body's: a value of the wrong kind names its field, a body that breaks off says where.
                var (field, detail) = ProblemResponses.Describe(ex, typeof(HeartbeatRequest));
                return ApiProblems.Invalid(field, detail);
            }
            catch (InvalidOperationException) when (!http.HasJsonContentType())
            {
                // Worded by ServiceDefaults' problem details, as the framework's own 415s are.
                return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType);
            }
        }
        if (request.Version is { Length: > MaxVersionLength })
        {
            return ApiProblems.Invalid("version", $"A version is at most {MaxVersionLength} characters.");
        }
        // Shown in the fleet's lists as a name is, with the same rule.
        if (request.Version is { } version && OneLineText.HasBreaking(version))
        {
            return ApiProblems.Invalid("version", "A version cannot contain control characters.");
        }
        if (request.Metrics is { Count: > MaxMetrics })
        {
            return ApiProblems.Invalid("metrics", $"A heartbeat carries at most {MaxMetrics} metrics.");
        }
        if (request.Metrics?.Keys.FirstOrDefault(k => k.Length is 0 or > MaxMetricNameLength) is { } badName)
        {
            return ApiProblems.Invalid("metrics", $"A metric name has 1 to {MaxMetricNameLength} characters; '{OneLineText.Shorten(badName, 20)}' does not.");
        }
        // A number too large for a double (1e999) is read as infinity, which JSON cannot carry back out.
        if (request.Metrics?.FirstOrDefault(m => !double.IsFinite(m.Value)) is { Key: { } outOfRange })
        {
            return ApiProblems.Invalid($"metrics.{outOfRange}", $"The metric '{outOfRange}' is out of range; a metric is a finite number.");
        }

        var heartbeat = new DeviceHeartbeat(request.Version, request.Metrics is null ? null : JsonSerializer.Serialize(request.Metrics));
        try
        {
            await services.Tracker.RecordHeartbeatAsync(device.Id, heartbeat, cancellationToken);
        }
        catch (RedisException)
        {
            return ApiProblems.Problem(StatusCodes.Status503ServiceUnavailable, "Presence unavailable", "The heartbeat could not be recorded; send the next one as usual.");
        }
        var interval = (int)services.Presence.Value.HeartbeatInterval.TotalSeconds;
        return TypedResults.Ok(new HeartbeatResponse(device.Id, DeviceStatus.Online, services.Time.GetUtcNow(), interval));
    }

    // Whether the body turns out to hold nothing; what it holds stays to be read.
    private static async Task<bool> IsEmptyAsync(HttpRequest http, CancellationToken cancellationToken)
    {
        var read = await http.BodyReader.ReadAsync(cancellationToken);
        var empty = read.Buffer.IsEmpty && read.IsCompleted;
        http.BodyReader.AdvanceTo(read.Buffer.Start);
        return empty;
    }
}
