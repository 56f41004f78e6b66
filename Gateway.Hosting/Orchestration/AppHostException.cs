namespace Gateway.Hosting.Orchestration;

/// <summary>A problem the person running the AppHost must fix; the message says what to do, in one sentence.</summary>
public sealed class AppHostException(string message) : Exception(message);
