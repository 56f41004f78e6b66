using System.Globalization;
using System.Text;

namespace Gateway.Testing.Faults;

/// <summary>The fault runs as a table: one row per fault, then the totals, then what did not add up.</summary>
public static class FiguresTable
{
    private static readonly string[] Header =
    [
        "fault", "down s", "requests", "200", "402", "503", "broken", "other", "served credits", "charged", "charged credits",
        "doubles", "open holds", "audit", "held back max s", "p50 s",
    ];

    public static string Format(IReadOnlyList<PhaseReport> phases, TimeSpan? took = null)
    {
        var rows = phases.Select(p => new[]
        {
            p.Fault, Seconds(p.Timing.Down), N(p.Requests), N(p.Count(Outcome.Served)), N(p.Count(Outcome.Refused402)),
            N(p.Count(Outcome.Unavailable503)), N(p.Count(Outcome.Broken)), N(p.Count(Outcome.Other)),
            N(p.ServedCredits), N(p.Charged), N(p.ChargedCredits),
            N(p.Ledger.HoldsCapturedTwice + p.Ledger.ServedChargedTwice), $"{N(p.Ledger.OpenHolds)} ({N(p.Ledger.OpenHeldCredits)} cr)",
            p.AuditBalanced ? "balanced" : "UNBALANCED",
            p.MaxHeldBack is { } max ? Seconds(max) : $"never: {p.UsersNotBack} users",
            p.MedianHeldBack is { } median ? Seconds(median) : "-",
        }).ToList();
        if (phases.Count > 1)
        {
            var held = phases.SelectMany(p => p.HeldBackAfter).ToList();
            rows.Add(
            [
                "all", Seconds(TimeSpan.FromTicks(phases.Sum(p => p.Timing.Down.Ticks))), N(phases.Sum(p => p.Requests)),
                N(phases.Sum(p => p.Count(Outcome.Served))), N(phases.Sum(p => p.Count(Outcome.Refused402))),
                N(phases.Sum(p => p.Count(Outcome.Unavailable503))), N(phases.Sum(p => p.Count(Outcome.Broken))), N(phases.Sum(p => p.Count(Outcome.Other))),
                N(phases.Sum(p => p.ServedCredits)), N(phases.Sum(p => p.Charged)), N(phases.Sum(p => p.ChargedCredits)),
                N(phases.Sum(p => p.Ledger.HoldsCapturedTwice + p.Ledger.ServedChargedTwice)),
                $"{N(phases.Sum(p => p.Ledger.OpenHolds))} ({N(phases.Sum(p => p.Ledger.OpenHeldCredits))} cr)",
                phases.All(p => p.AuditBalanced) ? "balanced" : "UNBALANCED",
                held.Any(t => t is null) ? $"never: {held.Count(t => t is null)} users" : Seconds(held.Max()),
                "-",
            ]);
        }

        var widths = Header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        void Line(IReadOnlyList<string> cells) =>
            text.AppendLine("| " + string.Join(" | ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))) + " |");
        Line(Header);
        text.AppendLine("|" + string.Join("|", widths.Select((w, i) => i == 0 ? new string('-', w + 2) : new string('-', w + 1) + ":")) + "|");
        rows.ForEach(Line);

        text.AppendLine();
        text.AppendLine("down s: from the fault until the process ran again and answered ready (a stall: until SIGCONT). held back: per user, from then");
        text.AppendLine("until their held credits were 0 (the load runs on for the plan's tail after the process is back, so this includes it);");
        text.AppendLine("never: still held when the wait ended (60 s after the process was back).");
        text.AppendLine("doubles: holds captured twice plus /v1 answers charged twice (Billing's database); charged: captures in the users' usage.");
        foreach (var phase in phases)
        {
            var notes = new List<string>();
            notes.AddRange(phase.Details.OrderByDescending(d => d.Value).Select(d => $"{d.Value} × {d.Key}"));
            notes.AddRange(phase.UserMismatches.Select(m => "charged ≠ served: " + m));
            if (phase.Ledger.ServedUncharged > 0)
            {
                notes.Add($"{phase.Ledger.ServedUncharged} /v1 answers served but never charged");
            }
            if (phase.StillHeld > 0)
            {
                notes.Add($"{phase.StillHeld} credits still held when the wait ended");
            }
            if (!phase.AuditBalanced)
            {
                notes.Add("audit: " + phase.Audit);
            }
            if (notes.Count > 0)
            {
                text.AppendLine($"{phase.Fault}:");
                notes.ForEach(n => text.AppendLine("  " + n));
            }
        }
        if (took is { } run)
        {
            text.AppendLine($"The run took {run.TotalMinutes:0.0} minutes.");
        }
        return text.ToString();
    }

    public static string Format(RaceReport race) =>
        $"Overdraft race: {race.Requests} requests at once against {race.StartingBalance} credits ({race.Affordable} × {race.CostEach}): " +
        $"{race.Served} served, {race.Refused402} × 402{string.Concat(race.Others.Select(o => $", {o.Value} × {o.Key}"))}" +
        $"{(race.Resent503 > 0 ? $" ({race.Resent503} sent again after a 503)" : "")}; " +
        $"lowest balance seen {race.LowestBalanceSeen}, lowest available {race.LowestAvailableSeen}; " +
        $"at the end balance {race.Final?.Balance.ToString() ?? "?"}, held {race.Final?.Held.ToString() ?? "?"}; " +
        $"{race.Charged.Count} charges for {race.Charged.Credits} credits; {race.Took.TotalSeconds:0.0} s.";

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan? value) => value is { } t ? t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) : "-";
}
