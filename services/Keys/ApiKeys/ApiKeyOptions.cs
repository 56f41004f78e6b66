using System.ComponentModel.DataAnnotations;

namespace Gateway.Keys.ApiKeys;

public sealed record ApiKeyOptions
{
    public const string Section = "Keys:ApiKeys";

    // Unrevoked, unexpired keys a user may hold at once (the default key counts).
    [Range(1, 1000, ErrorMessage = "Keys:ApiKeys:MaxActivePerUser must be between 1 and 1000.")]
    public int MaxActivePerUser { get; init; } = 25;
}
