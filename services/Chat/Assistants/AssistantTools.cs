using System.ComponentModel;
using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.Chat.Artifacts;
using Microsoft.Extensions.AI;

namespace Gateway.Chat.Assistants;

// The workspace tools a model gets when its user's assistant runs, each one an HTTP call to the tool API inside the
// user's own process (workloads/Assistant). Microsoft.Extensions.AI's function invocation calls them; what they answer
// (a problem too: a refused path) goes back to the model. A file written is an artifact of the turn.
public sealed class AssistantTools(HttpClient http, Uri endpoint, string secret)
{
    public const string ClientName = "assistant-tools";

    private readonly Queue<FileArtifact> _written = new();

    public IList<AITool> All =>
    [
        AIFunctionFactory.Create(ListFilesAsync, "list_files", "Lists the files and folders in the workspace, under a folder (empty for all)."),
        AIFunctionFactory.Create(ReadFileAsync, "read_file", "Reads a text file of the workspace."),
        AIFunctionFactory.Create(WriteFileAsync, "write_file", "Creates or replaces a text file of the workspace with the content given."),
    ];

    // Files written since last asked, in the order written.
    public IReadOnlyList<FileArtifact> TakeWritten()
    {
        var written = _written.ToList();
        _written.Clear();
        return written;
    }

    private Task<JsonElement> ListFilesAsync([Description("A folder of the workspace, relative; empty or left out for the whole workspace.")] string? path = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"tools/files?path={Uri.EscapeDataString(path ?? "")}", null, cancellationToken);

    private Task<JsonElement> ReadFileAsync([Description("The file's path, relative to the workspace.")] string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, $"tools/files/content?path={Uri.EscapeDataString(path)}", null, cancellationToken);

    private async Task<JsonElement> WriteFileAsync(
        [Description("The file's path, relative to the workspace, e.g. notes/todo.md.")] string path,
        [Description("The whole text of the file.")] string content,
        CancellationToken cancellationToken)
    {
        var answer = await SendAsync(HttpMethod.Put, "tools/files/content", new { path, content }, cancellationToken);
        if (answer.TryGetProperty("action", out var action) && answer.TryGetProperty("path", out var written))
        {
            var name = written.GetString()!;
            _written.Enqueue(new FileArtifact(name, Path.GetExtension(name) is { Length: > 1 } extension ? extension[1..].ToLowerInvariant() : null, content, action.GetString()!));
        }
        return answer;
    }

    // The tool API's answer as it is, a refusal's problem included: the model reads why and may try otherwise.
    private async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(endpoint, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        using var response = await http.SendAsync(request, cancellationToken);
        try
        {
            return await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        }
        catch (JsonException)
        {
            // Not JSON (an empty 500): the model is told that much, not the parser's words.
            return JsonSerializer.SerializeToElement(new { status = (int)response.StatusCode, detail = "The workspace failed without saying why." });
        }
    }
}
