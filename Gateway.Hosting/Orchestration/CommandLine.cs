namespace Gateway.Hosting.Orchestration;

/// <summary>
/// AppHost switches are the GATEWAY_ settings spelled for a command line: <c>--edge-url X</c> is GATEWAY_EDGE_URL.
/// A switch naming a configuration path (<c>--ConnectionStrings:postgres=…</c>) is left as it is.
/// </summary>
internal static class CommandLine
{
    public static string[] ToConfigurationArguments(string[] args) =>
        [.. args.Select(arg => IsGatewaySwitch(arg) ? "--GATEWAY_" + Name(arg[2..]) : arg)];

    private static bool IsGatewaySwitch(string arg) =>
        arg.Length > 2 && arg.StartsWith("--", StringComparison.Ordinal)
        && !arg.StartsWith("--GATEWAY_", StringComparison.OrdinalIgnoreCase)
        && !arg.Split('=')[0].Contains(':');

    // "edge-url=x" -> "EDGE_URL=x"
    private static string Name(string switchText)
    {
        var equals = switchText.IndexOf('=');
        var name = equals < 0 ? switchText : switchText[..equals];
        var rest = equals < 0 ? "" : switchText[equals..];
        return name.Replace('-', '_').ToUpperInvariant() + rest;
    }
}
