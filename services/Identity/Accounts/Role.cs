namespace Gateway.Identity.Accounts;

// Ordered by power: a caller may only grant or take away roles below their own (owners: any).
public enum Role
{
    Member = 0,
    Admin = 1,
    Owner = 2,
}

public static class Roles
{
    public static string Name(this Role role) => role.ToString().ToLowerInvariant();

    public static bool TryParse(string? value, out Role role)
    {
        role = default;
        return value is "owner" or "admin" or "member" && Enum.TryParse(value, ignoreCase: true, out role);
    }

    public const string Allowed = "owner, admin or member";
}
