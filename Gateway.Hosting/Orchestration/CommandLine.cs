namespace Gateway.Hosting.Orchestration;

/// <summary>AppHost switches are the GATEWAY_ settings spelled for a command line: <c>--edge-url X</c> is GATEWAY_EDGE_URL.</summary>
internal static class CommandLine
{
    public static string[] ToConfigurationArguments(string[] args) =>
        [.. args.Select(arg => arg.StartsWith("--", StringComparison.Ordinal) && !arg.StartsWith("--GATEWAY_", StringComparison.OrdinalIgnoreCase) && arg.Length > 2
            ? "--GATEWAY_" + Name(arg[2..])
            : arg)];

    // "edge-url=x" -> "EDGE_URL=x"
    private static string Name(string switchText)
    {
        var equals = switchText.IndexOf('=');
        var name = equals < 0 ? switchText : switchText[..equals];
        var rest = equals < 0 ? "" : switchText[equals..];
        return name.Replace('-', '_').ToUpperInvariant() + rest;
    }
}
