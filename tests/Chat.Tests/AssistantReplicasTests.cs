using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Chat.Assistants;
using Gateway.MockLlm;
using Gateway.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests;

// Two Chat instances on one machine (`./run.sh --replicas 2`) with the local runtime: one assistant process per user,
// which either instance sees, serves tools from and stops.
public sealed class AssistantReplicasTests(ITestOutputHelper output)
{
    private static CancellationToken Cancel => ChatSystem.Cancel;

    [Fact]
    public async Task Two_chat_instances_share_one_assistant_process_per_user()
    {
        await using var model = await MockLlmServer.StartAsync();
        await using var system = await ChatSystem.StartSystemAsync((await TestContext.Current.GetFixture<GatewayInfrastructure>())!, model,
            AssistantSystem.Settings(idleMinutes: 10), [GatewayService.Chat]);
        var (first, second) = (system.Instances(GatewayService.Chat)[0], system.Instances(GatewayService.Chat)[1]);
        var user = await ChatSystem.UserAsync(system);
        var workspace = Path.Combine(((LocalProcessRuntime)first.Provider.GetRequiredService<IAssistantRuntime>()).FolderOf(user.UserId), "workspace");

        using (var start = await SendAsync(first, user, new HttpRequestMessage(HttpMethod.Post, "/api/assistant/start")))
        {
            Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        }
        await AssistantTests.RunningAsync(user);
        var process = Assert.Single(AssistantProcesses(workspace));

        // Both supervisors look every 100 ms: the second one finds it running, not unknown, and starts no second copy.
        await Task.Delay(TimeSpan.FromSeconds(2), Cancel);
        Assert.Equal([process], AssistantProcesses(workspace));
        Assert.Equal("running", (await AssistantTests.StatusAsync(user)).GetProperty("status").GetString());
        foreach (var instance in new[] { first, second })
        {
            var runtime = (LocalProcessRuntime)instance.Provider.GetRequiredService<IAssistantRuntime>();
            Assert.Equal(RuntimeState.Running, (await runtime.GetAsync(user.UserId, Cancel)).State);
            Assert.Equal(process, runtime.ProcessId(user.UserId));
        }
        var state = Path.Combine(Path.GetDirectoryName(workspace)!, "process.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(state));

        // A chat turn served by the second instance reaches the process the first one started, with that start's secret.
        var request = ChatSystem.ChatRequest(new { message = """Note this. [mock:call write_file {"path":"notes.md","content":"from the second"}]""" });
        using (var chat = await SendAsync(second, user, request))
        {
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
            var events = new List<ServerSentEvent>();
            await foreach (var e in ServerSentEvents.ReadAsync(await chat.Content.ReadAsStreamAsync(Cancel)))
            {
                events.Add(e);
            }
            var result = Assert.Single(events, e => e.Name == "activity" && e.Data.GetProperty("type").GetString() == "tool_result").Data;
            Assert.Contains("\"action\":\"create\"", result.GetProperty("detail").GetString());
            Assert.Contains(events, e => e.Name == "done");
        }
        Assert.Equal("from the second", await File.ReadAllTextAsync(Path.Combine(workspace, "notes.md"), Cancel));
        Assert.Equal([process], AssistantProcesses(workspace));

        // Stopped through the instance that did not start it: the process ends, and neither supervisor starts it again.
        var clock = Stopwatch.StartNew();
        using (var stop = await SendAsync(second, user, new HttpRequestMessage(HttpMethod.Post, "/api/assistant/stop")))
        {
            Assert.Equal("stopped", (await stop.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("status").GetString());
        }
        output.WriteLine($"stop through the other instance: {clock.ElapsedMilliseconds} ms");
        Assert.Empty(AssistantProcesses(workspace));
        Assert.False(File.Exists(state));
        await Task.Delay(TimeSpan.FromSeconds(1), Cancel);
        Assert.Empty(AssistantProcesses(workspace));
        Assert.Equal("stopped", (await AssistantTests.StatusAsync(user)).GetProperty("status").GetString());

        // Started again through the second, it is the one process the first instance sees.
        using (var again = await SendAsync(second, user, new HttpRequestMessage(HttpMethod.Post, "/api/assistant/start")))
        {
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        }
        await AssistantTests.RunningAsync(user);
        var restarted = Assert.Single(AssistantProcesses(workspace));
        Assert.Equal(restarted, ((LocalProcessRuntime)first.Provider.GetRequiredService<IAssistantRuntime>()).ProcessId(user.UserId));
    }

    [Fact]
    public async Task When_the_instance_that_started_an_assistant_stops_another_starts_it_again_not_as_a_crash()
    {
        await using var model = await MockLlmServer.StartAsync();
        await using var system = await ChatSystem.StartSystemAsync((await TestContext.Current.GetFixture<GatewayInfrastructure>())!, model,
            AssistantSystem.Settings(idleMinutes: 10), [GatewayService.Chat]);
        var (first, second) = (system.Instances(GatewayService.Chat)[0], system.Instances(GatewayService.Chat)[1]);
        var user = await ChatSystem.UserAsync(system);
        var runtime = (LocalProcessRuntime)second.Provider.GetRequiredService<IAssistantRuntime>();
        var workspace = Path.Combine(runtime.FolderOf(user.UserId), "workspace");
        using (var start = await SendAsync(first, user, new HttpRequestMessage(HttpMethod.Post, "/api/assistant/start")))
        {
            Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        }
        await AssistantTests.RunningAsync(user);
        var process = Assert.Single(AssistantProcesses(workspace));

        await first.DisposeAsync(); // its children end with it (as they do when its process exits: their stdin closes)

        var restarted = await Eventually.UntilAsync(() => Task.FromResult(AssistantProcesses(workspace)), p => p.Count == 1 && p[0] != process,
            TimeSpan.FromSeconds(30));
        Assert.NotEqual(process, Assert.Single(restarted));
        var status = await Eventually.UntilAsync(() => StatusAtAsync(second, user), s => s.GetProperty("status").GetString() == "running", TimeSpan.FromSeconds(30));
        Assert.Equal("running", status.GetProperty("status").GetString());
        // Started again, not counted as a crash.
        await using (var scope = second.Provider.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<Gateway.Chat.Infrastructure.ChatDbContext>();
            Assert.Equal(0, (await db.Assistants.AsNoTracking().SingleAsync(a => a.UserId == user.UserId, Cancel)).Crashes);
        }
        Assert.Equal(restarted[0], runtime.ProcessId(user.UserId));
    }

    private static async Task<JsonElement> StatusAtAsync(IServiceHost instance, TestUser user)
    {
        using var response = await SendAsync(instance, user, new HttpRequestMessage(HttpMethod.Get, "/api/assistant"));
        return await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
    }

    // Straight to one instance, with the caller token the edge would have sent.
    private static async Task<HttpResponseMessage> SendAsync(IServiceHost instance, TestUser user, HttpRequestMessage request)
    {
        var token = instance.Provider.GetRequiredService<CallerTokenIssuer>().Issue(
            new Caller(user.UserId, user.OrganizationId, "owner", user.Email, CallerMethods.User));
        request.Headers.Add(CallerAuthentication.HeaderName, token);
        using var client = instance.CreateHttpClient();
        return await client.SendAsync(request, Cancel); // read whole (a turn's stream ends with it) before the client goes
    }

    // The assistant processes on this machine whose command line names this workspace.
    private static List<int> AssistantProcesses(string workspace) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && CommandLine(pid) is { } line && line.Contains("Gateway.Assistant") && line.Contains(workspace))
            .ToList();

    private static string? CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
