using System.Diagnostics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Gateway.ServiceDefaults.Outbox;

// An event committed in the same transaction as the change it reports, published later until the
// broker confirms it. Its Id becomes the message's MessageId, so consumers can recognise a repeat. It keeps the trace
// of the work that wrote it (W3C traceparent), so its publishing and consuming belong to that trace — the charge shows
// in a sampled request's trace, and an unsampled request's event is traced nowhere (OutboxPublisher).
public sealed class OutboxMessage
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Guid Id { get; private set; }
    public required string Type { get; init; }
    public required string Payload { get; init; }
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset? PublishedAt { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    public string? TraceParent { get; init; }

    public static OutboxMessage From<T>(T message) where T : class
    {
        var type = message.GetType();
        return new OutboxMessage
        {
            Id = Guid.CreateVersion7(),
            Type = $"{type.FullName}, {type.Assembly.GetName().Name}",
            Payload = JsonSerializer.Serialize(message, type, Json),
            CreatedAt = DateTimeOffset.UtcNow,
            TraceParent = Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity ? activity.Id : null,
        };
    }

    public (object Message, Type Type) Read() => Read(Type, Payload);

    public static (object Message, Type Type) Read(string typeName, string payload)
    {
        var type = System.Type.GetType(typeName, throwOnError: true)!;
        return (JsonSerializer.Deserialize(payload, type, Json)!, type);
    }
}

public static class OutboxModel
{
    // Call from OnModelCreating of a service's DbContext.
    public static ModelBuilder AddOutbox(this ModelBuilder builder)
    {
        builder.Entity<OutboxMessage>(entity =>
        {
            entity.ToTable("outbox_messages");
            entity.HasKey(m => m.Id);
            entity.Property(m => m.Type).HasMaxLength(300);
            entity.Property(m => m.Payload).HasColumnType("jsonb");
            entity.Property(m => m.TraceParent).HasMaxLength(55);
            entity.HasIndex(m => m.CreatedAt).HasFilter("\"PublishedAt\" IS NULL");
        });
        return builder;
    }

    // Stages an event; it is published only if the caller's SaveChanges commits.
    public static void AddToOutbox<T>(this DbContext db, T message) where T : class =>
        db.Set<OutboxMessage>().Add(OutboxMessage.From(message));
}
