using Gateway.ServiceDefaults;
namespace Gateway.Devices.CustomerSessions;

// What a device or a reviewer may send; each rule answers null when the value is fine, else the reason.
public static class CustomerSessionRules
{
    public const int MaxTurns = 500;

    public static string? CustomerName(string? name) => name?.Trim() switch
    {
        null => null,
        { Length: > CustomerSession.MaxCustomerNameLength } => $"A customer name is at most {CustomerSession.MaxCustomerNameLength} characters.",
        var trimmed when OneLineText.HasBreaking(trimmed) => "A customer name cannot contain control characters.",
        _ => null,
    };

    public static string? Summary(string? summary) =>
        summary is { Length: > CustomerSession.MaxSummaryLength } ? $"A summary is at most {CustomerSession.MaxSummaryLength} characters." : null;

    public static string? Note(string? note) =>
        note is { Length: > CustomerSession.MaxNoteLength } ? $"A note is at most {CustomerSession.MaxNoteLength} characters." : null;

    // A time a device reports: its clock may run a little ahead, not days; nothing before 2000 is a real session.
    public static string? When(DateTimeOffset? at, DateTimeOffset now) =>
        at is { } time && (time > now + ClockSkew || time < Earliest)
            ? $"A time must lie between 2000-01-01 and now (a device's clock may be up to {ClockSkew.TotalMinutes:0} minutes ahead); {time:O} does not."
            : null;

    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);
    private static readonly DateTimeOffset Earliest = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // Returns the field inside the transcript that is at fault (transcript[3].text) and why.
    public static (string Field, string Reason)? Transcript(IReadOnlyList<TranscriptTurn?>? transcript, DateTimeOffset now)
    {
        if (transcript is null || transcript.Count == 0)
        {
            return ("transcript", "A transcript with at least one turn is required.");
        }
        if (transcript.Count > MaxTurns)
        {
            return ("transcript", $"A transcript has at most {MaxTurns} turns.");
        }
        for (var i = 0; i < transcript.Count; i++)
        {
            var turn = transcript[i];
            if (turn is null)
            {
                return ($"transcript[{i}]", "A turn cannot be null.");
            }
            if (string.IsNullOrWhiteSpace(turn.Speaker) || turn.Speaker.Length > TranscriptTurn.MaxSpeakerLength)
            {
                return ($"transcript[{i}].speaker", $"The speaker is required and at most {TranscriptTurn.MaxSpeakerLength} characters.");
            }
            if (string.IsNullOrWhiteSpace(turn.Text) || turn.Text.Length > TranscriptTurn.MaxTextLength)
            {
                return ($"transcript[{i}].text", $"The text is required and at most {TranscriptTurn.MaxTextLength} characters.");
            }
            if (When(turn.At, now) is { } badTime)
            {
                return ($"transcript[{i}].at", badTime);
            }
        }
        return null;
    }

    public static string? Status(string? status) =>
        status is null || CustomerSessionStatus.All.Contains(status) ? null : $"The status must be one of {string.Join(", ", CustomerSessionStatus.All)}.";
}
