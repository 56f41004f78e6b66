using Gateway.Contracts;
using Gateway.ServiceDefaults;

namespace Gateway.Devices.CustomerSessions;

public static class CustomerSessionStatus
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Rejected = "rejected";

    public static readonly string[] All = [Pending, Approved, Rejected];
}

// A conversation a device had with a customer, handed in for an owner's or admin's approval (seed 001).
// It is decided once: approved or rejected, never both and never twice.
public sealed class CustomerSession
{
    public const int MaxCustomerNameLength = 200;
    public const int MaxSummaryLength = 2_000;
    public const int MaxNoteLength = 1_000;

    private CustomerSession() { }

    public Guid Id { get; private init; }
    public Guid OrganizationId { get; private init; }
    public Guid DeviceId { get; private init; }
    // The device's name when the session was handed in; the session outlives the device.
    public string DeviceName { get; private init; } = "";
    // The device's own id for the submission, so that a retried upload is not a second session.
    public Guid? SubmissionId { get; private init; }
    public string? CustomerName { get; private init; }
    public string? Summary { get; private init; }
    public List<TranscriptTurn> Transcript { get; private init; } = [];
    public DateTimeOffset? StartedAt { get; private init; }
    public DateTimeOffset? EndedAt { get; private init; }
    public DateTimeOffset SubmittedAt { get; private init; }
    // Also the concurrency token: of two decisions at once, only the first saves.
    public string Status { get; private set; } = CustomerSessionStatus.Pending;
    public DateTimeOffset? DecidedAt { get; private set; }
    public Guid? DecidedBy { get; private set; }
    public string? DecisionNote { get; private set; }

    public static (CustomerSession Session, CustomerSessionSubmitted Submitted) Submit(
        Guid organizationId, Guid deviceId, string deviceName, Guid? submissionId, string? customerName, string? summary,
        List<TranscriptTurn> transcript, DateTimeOffset? startedAt, DateTimeOffset? endedAt, DateTimeOffset now)
    {
        var session = new CustomerSession
        {
            Id = Guid.CreateVersion7(now),
            OrganizationId = organizationId,
            DeviceId = deviceId,
            DeviceName = deviceName,
            SubmissionId = submissionId,
            CustomerName = customerName,
            Summary = summary,
            Transcript = transcript,
            StartedAt = startedAt,
            EndedAt = endedAt,
            SubmittedAt = now,
        };
        return (session, new CustomerSessionSubmitted(session.Id, organizationId, deviceId, customerName, now));
    }

    // What the dashboard shows in a list: the device's summary, else the opening of the transcript.
    public string Synopsis(int length = 280)
    {
        var text = Summary ?? string.Join(" ", Transcript.Select(t => $"{t.Speaker}: {t.Text}"));
        return OneLineText.Shorten(text, length);
    }

    public CustomerSessionApproved Approve(Guid by, string? note, DateTimeOffset now)
    {
        Decide(CustomerSessionStatus.Approved, by, note, now);
        return new CustomerSessionApproved(Id, OrganizationId, DeviceId, by, now);
    }

    public CustomerSessionRejected Reject(Guid by, string? reason, DateTimeOffset now)
    {
        Decide(CustomerSessionStatus.Rejected, by, reason, now);
        return new CustomerSessionRejected(Id, OrganizationId, DeviceId, by, reason, now);
    }

    private void Decide(string status, Guid by, string? note, DateTimeOffset now)
    {
        if (Status != CustomerSessionStatus.Pending)
        {
            throw new InvalidOperationException($"The session was already {Status}.");
        }
        Status = status;
        DecidedBy = by;
        DecidedAt = now;
        DecisionNote = note;
    }
}

// One utterance of the conversation: who spoke (customer, agent, device…) and what was said.
public sealed class TranscriptTurn
{
    public const int MaxSpeakerLength = 50;
    public const int MaxTextLength = 4_000;

    public required string Speaker { get; init; }
    public required string Text { get; init; }
    public DateTimeOffset? At { get; init; }
}
