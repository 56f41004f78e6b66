namespace Gateway.Identity.Organizations;

public sealed class Organization
{
    public Guid Id { get; init; }
    public required string Name { get; set; }
    public string? ContactEmail { get; set; }
    public string? Website { get; set; }
    public DateTimeOffset CreatedAt { get; init; }

    public static Organization Create(string name, string? contactEmail) => new()
    {
        Id = Guid.CreateVersion7(),
        Name = name,
        ContactEmail = contactEmail,
        CreatedAt = DateTimeOffset.UtcNow,
    };
}
