using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Chat.Artifacts;

namespace Chat.Tests;

// Files the model writes in fenced code blocks that name them, reported as `artifact` events.
[Collection(nameof(ChatSystem))]
public sealed class ArtifactTests(ChatSystem chat)
{
    private static CancellationToken Cancel => ChatSystem.Cancel;

    [Fact]
    public async Task A_file_the_model_writes_is_an_artifact_event_and_writing_it_again_in_the_session_is_an_update()
    {
        var user = await chat.UserAsync();

        using var response = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "Write me a script [mock:file]", maxTokens = 200 }), HttpCompletionOption.ResponseHeadersRead, Cancel);
        var events = new List<ServerSentEvent>();
        await foreach (var e in ServerSentEvents.ReadAsync(await response.Content.ReadAsStreamAsync(Cancel)))
        {
            events.Add(e);
        }

        var artifact = Assert.Single(events, e => e.Name == "artifact").Data;
        Assert.Equal("hello.py", artifact.GetProperty("path").GetString());
        Assert.Equal("python", artifact.GetProperty("language").GetString());
        Assert.Equal("print(\"Hello, world!\")\n", artifact.GetProperty("content").GetString());
        Assert.Equal("create", artifact.GetProperty("action").GetString());
        // Sent as soon as its block closed: the command block after it still streams as tokens.
        var index = events.FindIndex(e => e.Name == "artifact");
        Assert.Contains(events.Skip(index), e => e.Name == "token");
        var streamed = string.Concat(events.Take(index).Where(e => e.Name == "token").Select(e => e.Data.GetProperty("text").GetString()));
        Assert.EndsWith("print(\"Hello, world!\")\n```", streamed.TrimEnd('\n'));
        var sessionId = events[^1].Data.GetProperty("sessionId").GetGuid();

        using var again = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "Once more [mock:file]", sessionId, maxTokens = 200 }, json: true), Cancel);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var answer = await again.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        var update = Assert.Single(answer.GetProperty("artifacts").EnumerateArray());
        Assert.Equal(("hello.py", "update"), (update.GetProperty("path").GetString(), update.GetProperty("action").GetString()));
    }

    [Fact]
    public async Task A_file_cut_off_by_the_token_limit_is_not_an_artifact()
    {
        var user = await chat.UserAsync();

        using var response = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "Write me a script [mock:file]", maxTokens = 12 }, json: true), Cancel);

        var answer = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        Assert.Contains("```python hello.py", answer.GetProperty("content").GetString());
        Assert.Empty(answer.GetProperty("artifacts").EnumerateArray());
    }

    [Theory]
    [InlineData("```python app.py", "app.py", "python")]
    [InlineData("```python:src/app.py", "src/app.py", "python")]
    [InlineData("```tsx title=\"components/Button.tsx\"", "components/Button.tsx", "tsx")]
    [InlineData("```index.html", "index.html", "html")]
    [InlineData("~~~ Dockerfile", "Dockerfile", null)]
    [InlineData("```python", null, null)]
    [InlineData("```", null, null)]
    [InlineData("```bash ../../etc/passwd.txt", null, null)]
    [InlineData("```text version 1.5", null, null)]
    public void A_fenced_block_is_a_file_only_when_its_info_string_names_one(string opening, string? path, string? language)
    {
        var scanner = new ArtifactScanner();

        var found = scanner.Append($"Some prose.\n{opening}\nline one\nline two\n{opening[..3]}\nMore prose.");

        if (path is null)
        {
            Assert.Empty(found);
            return;
        }
        var file = Assert.Single(found);
        Assert.Equal(new FileArtifact(path, language, "line one\nline two\n", "create"), file);
    }
}
