using Gateway.Devices.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Devices.Fleet;

// Devices call with `Authorization: Bearer dvc_…`; the edge passes it through and only Devices checks it.
public static class DeviceCredentials
{
    public const string Refused = "Send the device's credential as 'Authorization: Bearer dvc_…'; it is missing, not valid, or the device was deleted.";

    // The device the presented credential belongs to, or null.
    public static async Task<Device?> FindPresentingDeviceAsync(this DevicesDbContext db, HttpRequest request, CancellationToken cancellationToken)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var token = authorization["Bearer ".Length..].Trim();
        if (!DeviceToken.IsWellFormed(token))
        {
            return null;
        }
        var hash = DeviceToken.Hash(token);
        return await db.Devices.AsNoTracking().SingleOrDefaultAsync(d => d.TokenHash == hash, cancellationToken);
    }
}
