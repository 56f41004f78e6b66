using System.Diagnostics;

namespace Gateway.Hosting.Servers;

/// <summary>A short command run to completion while a server is prepared (initdb, chown, test): its exit code and output.</summary>
internal static class Command
{
    public static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken ct,
        string workingDirectory = "/", string? standardInput = null)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
        };
        using var process = Process.Start(start) ?? throw new ServerStartException($"{file} did not start.");
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
            process.StandardInput.Close();
        }
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var errors = process.StandardError.ReadToEndAsync(ct);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new ServerStartException($"{Path.GetFileName(file)} did not finish within {timeout.TotalSeconds:0} s.");
        }
        return (process.ExitCode, (await output + await errors).Trim());
    }
}
