using Gateway.ServiceDefaults;
namespace Gateway.Devices.Fleet;

// What a caller may send about a device; each rule answers null when the value is fine, else the reason.
public static class DeviceRules
{
    public const int MaxLabels = 10;
    public const int MaxLabelLength = 32;

    public static string? Name(string? name) => name?.Trim() switch
    {
        null => "A name is required.",
        var trimmed when OneLineText.IsBlank(trimmed) => "A name is required.", // white space or invisible characters alone too
        { Length: > Device.MaxNameLength } => $"A name is at most {Device.MaxNameLength} characters.",
        var trimmed when OneLineText.HasBreaking(trimmed) => "A name cannot contain control characters.",
        _ => null,
    };

    public static string? Labels(IReadOnlyList<string?>? labels)
    {
        if (labels is null)
        {
            return null;
        }
        if (labels.Count > MaxLabels)
        {
            return $"A device has at most {MaxLabels} labels.";
        }
        foreach (var label in labels)
        {
            if (Label(label) is { } reason)
            {
                return reason;
            }
        }
        return null;
    }

    public static string? Label(string? label) => label?.Trim() switch
    {
        null or "" => "A label cannot be empty.",
        { Length: > MaxLabelLength } => $"A label is at most {MaxLabelLength} characters.",
        var trimmed when !trimmed.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '/') =>
            $"The label '{trimmed}' may only contain the letters A to Z (without accents), digits and - _ . : /",
        _ => null,
    };

    // Labels compare without case and each appears once.
    public static List<string> NormalizeLabels(IEnumerable<string?>? labels) =>
        labels?.Select(l => l!.Trim().ToLowerInvariant()).Distinct().ToList() ?? [];

    public static string? Status(string? status) =>
        status is null || DeviceStatus.All.Contains(status) ? null : $"The status must be one of {string.Join(", ", DeviceStatus.All)}.";
}
