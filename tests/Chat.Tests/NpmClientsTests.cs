using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Gateway.MockLlm;

namespace Chat.Tests;

// The npm clients themselves against the edge with an sk_live_ key (issue 18): the official openai client (responses
// streamed and not, chat completions, models.retrieve, embeddings), the Vercel AI SDK's default OpenAI provider
// (generateText and streamText, which call /v1/responses) and LangChain's ChatOpenAI with and without
// useResponsesApi. NpmClients/ pins them (package-lock.json); npm ci installs them once per lock file, and
// clients.mjs prints what each call saw. Each call's charge is found in the wallet's history by its output tokens.
[Collection(nameof(ChatSystem))]
public sealed class NpmClientsTests(ChatSystem chat)
{
    private static CancellationToken Cancel => ChatSystem.Cancel;

    private static readonly string Folder = Path.Combine(RepositoryRoot(), "tests", "Chat.Tests", "NpmClients");

    [Fact]
    public async Task The_openai_client_the_AI_SDK_and_LangChain_work_unchanged_and_each_call_is_charged_what_it_reported()
    {
        await InstallAsync();
        var user = await chat.UserAsync();
        var key = await chat.ApiKeyAsync(user);

        var (exit, output, errors) = await RunAsync("node", ["clients.mjs", new Uri(chat.System.Edge.Address, "v1").ToString(), key], TimeSpan.FromMinutes(2));

        Assert.True(exit == 0, $"node exited with {exit}:\n{output}\n{errors}");
        var results = output.Split('\n').Where(l => l.StartsWith("RESULT ", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l["RESULT ".Length..]).RootElement).ToDictionary(r => r.GetProperty("name").GetString()!);
        var answers = new Dictionary<string, int>
        {
            ["openai.responses.create"] = 3, ["openai.responses.create stream"] = 4, ["openai.chat.completions.create"] = 5,
            ["ai.generateText"] = 6, ["ai.streamText"] = 7,
            ["langchain.invoke responses"] = 8, ["langchain.invoke completions"] = 9, ["langchain.stream responses"] = 10, ["langchain.stream completions"] = 11,
        };
        foreach (var (name, tokens) in answers)
        {
            var result = results[name];
            var expected = Answers.Text(new Directives(), "", $"Say something, {name} [mock:tokens={tokens}]", tokens);
            Assert.True(expected == result.GetProperty("text").GetString(), $"{name}: {result}");
            Assert.True(tokens == result.GetProperty("outputTokens").GetInt32(), $"{name}: {result}");
        }
        Assert.Equal(("completed", "stop"), (results["openai.responses.create"].GetProperty("status").GetString(), results["ai.generateText"].GetProperty("finishReason").GetString()));
        Assert.Equal(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added", "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"],
            results["openai.responses.create stream"].GetProperty("types").EnumerateArray().Select(t => t.GetString()));
        var model = results["openai.models.retrieve"];
        Assert.Equal(("local-model", "model", 404, "model_not_found"), (model.GetProperty("id").GetString(), model.GetProperty("object").GetString(),
            model.GetProperty("missing").GetProperty("status").GetInt32(), model.GetProperty("missing").GetProperty("code").GetString()));
        var vectors = results["openai.embeddings.create"].GetProperty("vectors");
        Assert.Equal(Embeddings.Vector("second text", 8), vectors[1].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray());

        // One charge per billed call, each what the client was told it used: chat at 1 credit a token, embeddings at 0.1.
        var entries = await Eventually.UntilAsync(() => ChatSystem.UsageEntriesAsync(user), e => e.Count == answers.Count + 1);
        foreach (var (name, tokens) in answers.Append(new("openai.embeddings.create", 0)))
        {
            var entry = Assert.Single(entries, e => e.GetProperty("outputTokens").GetInt64() == tokens);
            var input = results[name].GetProperty("inputTokens").GetInt64();
            Assert.Equal(input, entry.GetProperty("inputTokens").GetInt64());
            Assert.Equal(tokens == 0 ? -(long)Math.Ceiling(input * 0.1) : -(input + tokens), entry.GetProperty("amount").GetInt64());
        }
        var charged = -entries.Sum(e => e.GetProperty("amount").GetInt64());
        Assert.Equal(new Wallet(1000 - charged, 0, 1000 - charged), await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0));
    }

    // npm ci when the lock file changed since the last install here (a stamp of its hash in node_modules).
    private static async Task InstallAsync()
    {
        var stamp = Path.Combine(Folder, "node_modules", ".installed-lock");
        var lockHash = Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(Folder, "package-lock.json"), Cancel)));
        if (File.Exists(stamp) && await File.ReadAllTextAsync(stamp, Cancel) == lockHash)
        {
            return;
        }
        var (exit, output, errors) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], TimeSpan.FromMinutes(5));
        Assert.True(exit == 0, $"npm ci exited with {exit}:\n{output}\n{errors}");
        await File.WriteAllTextAsync(stamp, lockHash, Cancel);
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Gateway.sln")))
        {
            folder = folder.Parent;
        }
        return folder?.FullName ?? throw new InvalidOperationException($"No Gateway.sln above {AppContext.BaseDirectory}.");
    }

    private static async Task<(int Exit, string Output, string Errors)> RunAsync(string program, string[] arguments, TimeSpan limit)
    {
        var start = new ProcessStartInfo(program, arguments) { WorkingDirectory = Folder, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync(Cancel);
        var errors = process.StandardError.ReadToEndAsync(Cancel);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} took longer than {limit}.");
        }
        return (process.ExitCode, await output, await errors);
    }
}
