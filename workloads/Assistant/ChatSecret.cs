using System.Security.Cryptography;
using System.Text;

namespace Gateway.Workloads.Assistant;

// The secret this start shares with Chat, kept only as its SHA-256: read from the first line of stdin (a local process:
// never in the environment or on disk) or from a file (a mounted Kubernetes secret, Assistant:SecretFile).
public sealed class ChatSecret
{
    private readonly byte[] _hash;

    private ChatSecret(string secret) => _hash = SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public bool FromStdin { get; private init; }

    public static async Task<ChatSecret> ReadAsync(IConfiguration configuration)
    {
        var file = configuration["Assistant:SecretFile"];
        var secret = file is { Length: > 0 } ? (await File.ReadAllTextAsync(file)).Trim() : await Console.In.ReadLineAsync();
        if (string.IsNullOrWhiteSpace(secret) || secret.Length < 32)
        {
            throw new InvalidOperationException("No secret of at least 32 characters was given (Assistant:SecretFile, or the first line of stdin).");
        }
        return new ChatSecret(secret) { FromStdin = file is not { Length: > 0 } };
    }

    public bool Matches(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string Bearer = "Bearer ";
        return header.StartsWith(Bearer, StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(header[Bearer.Length..])), _hash);
    }
}

// A local process ends with Chat: stdin stays open while Chat runs, and closing it (Chat stopping it, or Chat gone) stops
// this program gracefully.
public sealed class ParentWatch(ChatSecret secret, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!secret.FromStdin)
        {
            return;
        }
        while (await Console.In.ReadLineAsync(stoppingToken) is not null)
        {
        }
        lifetime.StopApplication();
    }
}
