using System.Net.Mail;
using Gateway.ServiceDefaults;

namespace Gateway.Identity.Accounts;

// Input rules for the fields people type; each returns the reason a value is refused, or null.
public static class AccountRules
{
    public const int MaxEmail = 254;
    public const int MaxName = 100;
    public const int MaxPassword = 128;

    public static string? Email(string? email) => email switch
    {
        null or "" => "An e-mail address is required.",
        { Length: > MaxEmail } => $"An e-mail address is at most {MaxEmail} characters.",
        _ when !MailAddress.TryCreate(email, out var parsed) || parsed.Address != email || !parsed.Host.Contains('.') =>
            "This is not a valid e-mail address.",
        _ => null,
    };

    public static string? Password(string? password) => password switch
    {
        null or "" => "A password is required.",
        { Length: > MaxPassword } => $"A password is at most {MaxPassword} characters.",
        _ => null,
    };

    public static string? Name(string? name, bool required = false) => name switch
    {
        null when required => "A name is required.",
        null => null,
        _ when OneLineText.IsBlank(name) => "A name cannot be blank.", // white space or invisible characters alone (U+200B) too
        { Length: > MaxName } => $"A name is at most {MaxName} characters.",
        // A name is shown in mail, the console and other members' lists: a line break in it could forge a line there.
        _ when OneLineText.HasBreaking(name) => "A name cannot contain control characters.",
        _ => null,
    };

    public static string? Timezone(string? timezone) =>
        timezone is null || (timezone.Length <= 64 && TimeZoneInfo.TryFindSystemTimeZoneById(timezone, out var zone) && zone.HasIanaId)
            ? null
            : "The time zone must be an IANA time zone such as 'Europe/Berlin'.";

    // Adds each refused field to errors; true when all are fine.
    public static bool Check(Dictionary<string, string[]> errors, params (string Field, string? Reason)[] checks)
    {
        foreach (var (field, reason) in checks)
        {
            if (reason is not null)
            {
                errors.TryAdd(field, [reason]);
            }
        }
        return errors.Count == 0;
    }

    public static string? Normalize(string? email) => email?.Trim();
}
