namespace Gateway.Hosting.Orchestration;

/// <summary>The table printed once everything is up: name, state, pid, where it answers.</summary>
internal static class StatusTable
{
    public static string Format(IReadOnlyList<ResourceSnapshot> rows)
    {
        string[] header = ["RESOURCE", "KIND", "STATE", "PID", "URL"];
        var cells = rows.Select(r => new[] { r.Name, r.Kind, r.State.ToString(), r.Pid?.ToString() ?? "-", r.Endpoint }).Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(i => cells.Max(c => c[i].Length)).ToArray();
        return string.Join('\n', cells.Select(c => "  " + string.Join("  ", c.Select((text, i) => i == c.Length - 1 ? text : text.PadRight(widths[i])))));
    }
}
