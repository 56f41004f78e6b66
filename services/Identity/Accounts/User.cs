using Microsoft.AspNetCore.Identity;

namespace Gateway.Identity.Accounts;

// An account. ASP.NET Core Identity keeps the password hash, lockout counters and external logins;
// the rest is ours. Every user belongs to exactly one organisation.
public sealed class User : IdentityUser<Guid>
{
    public string? Name { get; set; }
    public Guid OrganizationId { get; set; }
    public Role Role { get; set; }
    public string? Timezone { get; set; }
    public AssistantSettings Assistant { get; set; } = new();
    public DateTimeOffset CreatedAt { get; set; }

    public static User Create(string email, string? name, Guid organizationId, Role role) => new()
    {
        Id = Guid.CreateVersion7(),
        UserName = email,
        Email = email,
        Name = name,
        OrganizationId = organizationId,
        Role = role,
        CreatedAt = DateTimeOffset.UtcNow,
        SecurityStamp = Guid.NewGuid().ToString("N"),
    };
}

public sealed class AssistantSettings
{
    public string? Name { get; set; }
    public List<string> Interests { get; set; } = [];
}
