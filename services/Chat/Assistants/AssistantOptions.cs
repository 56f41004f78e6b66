using Microsoft.Extensions.Options;

namespace Gateway.Chat.Assistants;

// Users' assistants ("Chat:Assistants").
public sealed record AssistantOptions
{
    public const string Section = "Chat:Assistants";

    // Where they run: Local (a process of this Chat each, the default) or Kubernetes (a Deployment and a volume each, in
    // the cluster that Kubernetes below names).
    public AssistantRuntimeKind Runtime { get; init; } = AssistantRuntimeKind.Local;
    public KubernetesRuntimeOptions Kubernetes { get; init; } = new();

    // Where LocalProcessRuntime keeps each user's folder (<Directory>/<user id>/workspace); the AppHost sets it to
    // <data folder>/assistants.
    public string Directory { get; init; } = "";

    // The assistant program's dll; empty: Gateway.Assistant.dll beside Chat's own (a project reference copies it there).
    public string Program { get; init; } = "";

    // A running assistant nobody used for this long is stopped.
    public double IdleMinutes { get; init; } = 30;

    // How often running assistants are looked at (crashed, become ready, idle).
    public TimeSpan CheckEvery { get; init; } = TimeSpan.FromSeconds(2);

    // Started but not answering within this: it counts as a crash.
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    // Running, its process alive, but no answer to /health within this at a look (hung): it counts as a crash.
    public TimeSpan HealthTimeout { get; init; } = TimeSpan.FromSeconds(5);

    // A crashed assistant is started again after FirstRestartDelay, doubling each time; after MaxCrashes crashes in a row
    // (a start that ran CrashFreeAfter without crashing resets the count) it is failed and stays so until started again.
    public TimeSpan FirstRestartDelay { get; init; } = TimeSpan.FromSeconds(1);
    public int MaxCrashes { get; init; } = 3;
    public TimeSpan CrashFreeAfter { get; init; } = TimeSpan.FromMinutes(5);

    // Limits of one assistant's process (LocalProcessRuntime): its managed heap, its open files, its files' size, its workspace.
    // The program itself refuses a file over MaxFileBytes and a workspace over MaxWorkspaceBytes whichever runtime runs it.
    public int MemoryLimitMiB { get; init; } = 64;
    public int MaxOpenFiles { get; init; } = 256;
    public long MaxFileBytes { get; init; } = 1024 * 1024;
    public long MaxWorkspaceBytes { get; init; } = 50L * 1024 * 1024;

    // How long a tool call may take.
    public TimeSpan ToolTimeout { get; init; } = TimeSpan.FromSeconds(10);

    // How many model calls one chat turn may make in its tool loop.
    public int MaxModelCalls { get; init; } = 8;

    public TimeSpan IdleAfter => TimeSpan.FromMinutes(IdleMinutes);

    public string ProgramPath => Program is { Length: > 0 } path ? path : Path.Combine(AppContext.BaseDirectory, "Gateway.Assistant.dll");
}

public sealed class AssistantOptionsValidator : IValidateOptions<AssistantOptions>
{
    public ValidateOptionsResult Validate(string? name, AssistantOptions options)
    {
        var failures = new List<string>();
        if (options.Runtime == AssistantRuntimeKind.Kubernetes)
        {
            failures.AddRange(options.Kubernetes.Problems());
        }
        else
        {
            if (string.IsNullOrWhiteSpace(options.Directory) || !Path.IsPathFullyQualified(options.Directory))
            {
                failures.Add($"{AssistantOptions.Section}:Directory must be the absolute folder the assistants' workspaces are kept in.");
            }
            if (!File.Exists(options.ProgramPath))
            {
                failures.Add($"{AssistantOptions.Section}:Program names no file ({options.ProgramPath}); build workloads/Assistant or set it.");
            }
        }
        if (options.IdleMinutes <= 0 || options.MaxCrashes < 1 || options.MemoryLimitMiB < 16 || options.MaxModelCalls < 1)
        {
            failures.Add($"{AssistantOptions.Section}: IdleMinutes must be above 0, MaxCrashes and MaxModelCalls at least 1, MemoryLimitMiB at least 16.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
