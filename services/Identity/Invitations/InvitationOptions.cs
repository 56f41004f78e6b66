using System.ComponentModel.DataAnnotations;

namespace Gateway.Identity.Invitations;

// Identity:Invitations.
public sealed record InvitationOptions
{
    public const string Section = "Identity:Invitations";

    [Range(typeof(TimeSpan), "00:05:00", "30.00:00:00")]
    public TimeSpan Lifetime { get; init; }

    // Where the dashboard accepts invitations; the token is appended as ?token=….
    [Required, Url] public string AcceptUrl { get; init; } = "";
}
