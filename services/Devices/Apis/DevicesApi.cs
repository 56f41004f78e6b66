using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Contracts;
using Gateway.Devices.Fleet;
using Gateway.Devices.Infrastructure;
using Gateway.Devices.Presence;
using Gateway.ServiceDefaults;
using Gateway.ServiceDefaults.Outbox;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Devices.Apis;

// An organisation's fleet as its people see it (seed 001): members read, owners and admins change it.
// Another organisation's device is a 404, like a device that does not exist.
public static class DevicesApi
{
    public static IEndpointRouteBuilder MapDevicesApi(this IEndpointRouteBuilder app)
    {
        var devices = app.MapGroup("/api/devices").WithTags("Devices");
        devices.MapPost("/register", RegisterDevice).WithSummary("Registers a device and answers its one-time activation code (owners and admins).").RequireAuthorization(CallerPolicies.Manager);
        devices.MapGet("/", ListDevices).WithSummary("Lists your organisation's devices, by status or label.").RequireAuthorization(CallerPolicies.Member);
        devices.MapGet("/{id}", GetDevice).WithSummary("Reads one device, its last heartbeat included.").RequireAuthorization(CallerPolicies.Member);
        devices.MapPatch("/{id}", UpdateDevice).WithSummary("Renames a device or changes its labels (owners and admins).").RequireAuthorization(CallerPolicies.Manager);
        devices.MapDelete("/{id}", RemoveDevice).WithSummary("Removes a device; its token stops working (owners and admins).").RequireAuthorization(CallerPolicies.Manager);

        app.MapGet("/api/organization/device-health", GetDeviceHealth).WithTags("Devices")
            .WithSummary("Counts your organisation's devices: online, offline and not yet activated.").RequireAuthorization(CallerPolicies.Member);
        return app;
    }

    public sealed record RegisterDeviceRequest([property: Required] string? Name, List<string?>? Labels);

    // The activation code is shown here once; only its hash is kept.
    public sealed record RegisteredDeviceResponse(Guid Id, string Name, IReadOnlyList<string> Labels, string Status, string ActivationCode, DateTimeOffset ExpiresAt);

    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)] // a misspelt member would change nothing
    public sealed record UpdateDeviceRequest(string? Name, List<string?>? Labels);

    public sealed record DeviceResponse(
        Guid Id, string Name, IReadOnlyList<string> Labels, string Status, DateTimeOffset RegisteredAt, DateTimeOffset? ActivatedAt,
        DateTimeOffset? ActivationExpiresAt, DateTimeOffset? LastSeenAt, string? Version = null, JsonElement? Metrics = null)
    {
        public static DeviceResponse From(Device device, DateTimeOffset? lastSeen, DeviceHeartbeat? heartbeat = null) => new(
            device.Id, device.Name, device.Labels, device.Status, device.RegisteredAt, device.ActivatedAt,
            device.ActivatedAt is null ? device.ActivationExpiresAt : null,
            lastSeen ?? device.LastSeenAt,
            heartbeat?.Version,
            heartbeat?.MetricsJson is { } metrics ? JsonDocument.Parse(metrics).RootElement.Clone() : null);
    }

    public sealed record DeviceHealthResponse(int Total, int Online, int Offline, int Pending);

    public sealed record DeviceServices(DevicesDbContext Db, PresenceStore Presence, TimeProvider Time);

    public static async Task<Results<Created<RegisteredDeviceResponse>, ProblemHttpResult>> RegisterDevice(
        RegisterDeviceRequest request, ClaimsPrincipal user, DeviceRegistrar registrar, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (DeviceRules.Name(request.Name) is { } badName) errors["name"] = [badName];
        if (DeviceRules.Labels(request.Labels) is { } badLabels) errors["labels"] = [badLabels];
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }

        var registration = await registrar.RegisterAsync(
            user.Organization(), request.Name!.Trim(), DeviceRules.NormalizeLabels(request.Labels), user.GetUserId(), cancellationToken);
        return registration switch
        {
            Registered(var device, var code) => TypedResults.Created($"/api/devices/{device.Id}",
                new RegisteredDeviceResponse(device.Id, device.Name, device.Labels, device.Status, code, device.ActivationExpiresAt!.Value)),
            DeviceLimitReached limit => TypedResults.Problem(
                detail: limit.Reason,
                statusCode: StatusCodes.Status409Conflict,
                title: "Device limit reached",
                extensions: new Dictionary<string, object?> { ["limit"] = limit.Limit, ["registered"] = limit.Registered }),
            _ => throw new InvalidOperationException($"Unexpected registration {registration}."),
        };
    }

    public static async Task<Results<Ok<Page<DeviceResponse>>, ProblemHttpResult>> ListDevices(
        string? status, string? label, int? limit, int? offset, ClaimsPrincipal user, [AsParameters] DeviceServices services, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (DeviceRules.Status(status) is { } badStatus) errors["status"] = [badStatus];
        if (label is not null && DeviceRules.Label(label) is { } badLabel) errors["label"] = [badLabel];
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }
        if (PageRequest.Check(limit, offset, out var page) is { } problem)
        {
            return problem;
        }

        var organizationId = user.Organization();
        var query = services.Db.Devices.AsNoTracking().Where(d => d.OrganizationId == organizationId);
        if (status is not null)
        {
            query = query.Where(d => d.Status == status);
        }
        if (label is not null)
        {
            var wanted = label.Trim().ToLowerInvariant();
            query = query.Where(d => d.Labels.Contains(wanted));
        }
        var total = await query.CountAsync(cancellationToken);
        var devices = await query.OrderBy(d => d.Name).ThenBy(d => d.Id).Skip(page.Offset).Take(page.Limit).ToListAsync(cancellationToken);
        var ids = devices.Select(d => d.Id).ToList();
        var lastSeen = await services.Presence.LastSeenAsync(ids);
        var heartbeats = await services.Presence.LastHeartbeatsAsync(ids);
        var items = devices.Select(d => DeviceResponse.From(d, lastSeen.TryGetValue(d.Id, out var seen) ? seen : null, heartbeats.GetValueOrDefault(d.Id))).ToList();
        return TypedResults.Ok(page.Of(items, total));
    }

    public static async Task<Results<Ok<DeviceResponse>, ProblemHttpResult>> GetDevice(
        Guid id, ClaimsPrincipal user, [AsParameters] DeviceServices services, CancellationToken cancellationToken)
    {
        var organizationId = user.Organization();
        var device = await services.Db.Devices.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id && d.OrganizationId == organizationId, cancellationToken);
        if (device is null)
        {
            return ApiProblems.NotFound("There is no such device.");
        }
        var lastSeen = await services.Presence.LastSeenAsync(device.Id);
        var heartbeat = await services.Presence.LastHeartbeatAsync(device.Id);
        return TypedResults.Ok(DeviceResponse.From(device, lastSeen, heartbeat));
    }

    public static async Task<Results<Ok<DeviceResponse>, ProblemHttpResult>> UpdateDevice(
        Guid id, UpdateDeviceRequest request, ClaimsPrincipal user, [AsParameters] DeviceServices services, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.Name is null && request.Labels is null) errors["name"] = ["Send a new name, new labels, or both."];
        if (request.Name is not null && DeviceRules.Name(request.Name) is { } badName) errors["name"] = [badName];
        if (DeviceRules.Labels(request.Labels) is { } badLabels) errors["labels"] = [badLabels];
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }

        var organizationId = user.Organization();
        var device = await services.Db.Devices.SingleOrDefaultAsync(d => d.Id == id && d.OrganizationId == organizationId, cancellationToken);
        if (device is null)
        {
            return ApiProblems.NotFound("There is no such device.");
        }
        if (request.Name is not null) device.Rename(request.Name.Trim());
        if (request.Labels is not null) device.Relabel(DeviceRules.NormalizeLabels(request.Labels));
        // Other dashboards show the new name at once, as they show every other change of a device's.
        services.Db.AddToOutbox(new DeviceUpdated(Guid.CreateVersion7(), device.Id, organizationId, device.Name, device.Labels, user.GetUserId(), services.Time.GetUtcNow()));
        await services.Db.SaveChangesAsync(cancellationToken);
        // The same view as GET, heartbeat included.
        return TypedResults.Ok(DeviceResponse.From(device, await services.Presence.LastSeenAsync(device.Id), await services.Presence.LastHeartbeatAsync(device.Id)));
    }

    // The device's credential stops working with the row; its sessions stay for the record.
    public static async Task<Results<NoContent, ProblemHttpResult>> RemoveDevice(
        Guid id, ClaimsPrincipal user, [AsParameters] DeviceServices services, CancellationToken cancellationToken)
    {
        var organizationId = user.Organization();
        await using (var transaction = await services.Db.Database.BeginTransactionAsync(cancellationToken))
        {
            var deleted = await services.Db.Devices.Where(d => d.Id == id && d.OrganizationId == organizationId).ExecuteDeleteAsync(cancellationToken);
            if (deleted == 0)
            {
                return ApiProblems.NotFound("There is no such device.");
            }
            services.Db.AddToOutbox(new DeviceRemoved(id, organizationId, user.GetUserId(), services.Time.GetUtcNow()));
            await services.Db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        await services.Presence.ForgetAsync(id);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<DeviceHealthResponse>> GetDeviceHealth(ClaimsPrincipal user, DevicesDbContext db, CancellationToken cancellationToken)
    {
        var organizationId = user.Organization();
        var counts = await db.Devices.Where(d => d.OrganizationId == organizationId)
            .GroupBy(d => d.Status)
            .Select(g => new { Status = g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Status, g => g.Count, cancellationToken);
        var online = counts.GetValueOrDefault(DeviceStatus.Online);
        var offline = counts.GetValueOrDefault(DeviceStatus.Offline);
        var pending = counts.GetValueOrDefault(DeviceStatus.Pending);
        return TypedResults.Ok(new DeviceHealthResponse(online + offline + pending, online, offline, pending));
    }
}
