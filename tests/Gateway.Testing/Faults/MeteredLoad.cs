using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using OpenAI.Chat;

namespace Gateway.Testing.Faults;

/// <summary>How a request is sent: /api/chat streamed (SSE) or as JSON, /v1/chat/completions streamed (read raw, so
/// that a missing [DONE] is seen) or not (through the official OpenAI .NET client with the user's sk_live_ key).</summary>
public enum RequestKind { ChatStream, ChatJson, CompletionStream, CompletionSdk }

/// <summary>What the client saw. Served: HTTP 200 and a complete answer (the SSE <c>done</c> without an <c>error</c>,
/// <c>[DONE]</c>, or a whole JSON body whose finish reason is not "interrupted"). Broken: HTTP 200 but not that.</summary>
public enum Outcome { Served, Refused402, Unavailable503, Broken, Other }

public sealed record RequestResult(RequestKind Kind, Outcome Outcome, string Detail, long Credits, Guid? Reservation);

public sealed record LoadOptions
{
    /// <summary>Between two of the model's tokens: long enough that a kill lands mid-stream.</summary>
    public int TokenDelayMs { get; init; } = 10;

    /// <summary>Each answer's length (MockLlm answers exactly this many tokens), so each hold is what is charged.</summary>
    public int MaxTokens { get; init; } = 24;

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Before the next request after one that failed.</summary>
    public TimeSpan PauseAfterFailure { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Bounds on the loop, whatever its caller does.</summary>
    public int MaxRequestsPerUser { get; init; } = 20_000;

    public TimeSpan MaxDuration { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>What one user's loop saw.</summary>
public sealed class UserTally
{
    private readonly List<RequestResult> _results = [];

    public IReadOnlyList<RequestResult> Results
    {
        get { lock (_results) return [.. _results]; }
    }

    public int Count
    {
        get { lock (_results) return _results.Count; }
    }

    public void Add(RequestResult result)
    {
        lock (_results) _results.Add(result);
    }

    public int Served => Results.Count(r => r.Outcome == Outcome.Served);

    public long ServedCredits => Results.Where(r => r.Outcome == Outcome.Served).Sum(r => r.Credits);
}

/// <summary>
/// Concurrent users, each sending metered chats one after another through the edge, the four kinds in turn, until
/// stopped. Stopping lets every request in flight finish: a request cancelled by the client would be billed for what
/// it had received without being seen as served.
/// </summary>
public sealed class MeteredLoad
{
    private readonly FaultSystem _system;
    private readonly LoadOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<FaultUser, UserTally> _tallies;
    private readonly Task[] _loops;

    private MeteredLoad(FaultSystem system, IReadOnlyList<FaultUser> users, LoadOptions options)
    {
        _system = system;
        _options = options;
        _stopping.CancelAfter(options.MaxDuration);
        _tallies = users.ToDictionary(u => u, _ => new UserTally());
        _loops = [.. users.Select((user, i) => Task.Run(() => LoopAsync(user, i, _tallies[user])))];
    }

    public static MeteredLoad Start(FaultSystem system, IReadOnlyList<FaultUser> users, LoadOptions? options = null) =>
        new(system, users, options ?? new LoadOptions());

    public int Requests => _tallies.Values.Sum(t => t.Count);

    /// <summary>Done when every loop has sent its MaxRequestsPerUser.</summary>
    public Task Completion => Task.WhenAll(_loops);

    /// <summary>No new request is started; answers once every request in flight has finished.</summary>
    public async Task<IReadOnlyDictionary<FaultUser, UserTally>> StopAsync()
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_loops);
        return _tallies;
    }

    private async Task LoopAsync(FaultUser user, int index, UserTally tally)
    {
        var sdk = _system.OpenAIClient(user, _options.RequestTimeout);
        for (var i = 0; i < _options.MaxRequestsPerUser && !_stopping.IsCancellationRequested; i++)
        {
            var kind = (RequestKind)((i + index) % 4);
            var message = $"Fault probe {user.Name} #{i}: tell me something [mock:token-ms={_options.TokenDelayMs}]";
            var result = await SendAsync(kind, user, sdk, message);
            tally.Add(result);
            if (result.Outcome is Outcome.Other or Outcome.Broken or Outcome.Unavailable503)
            {
                // As a client would, rather than spinning on a service that is down (502 in a millisecond).
                await Task.Delay(_options.PauseAfterFailure);
            }
        }
    }

    private async Task<RequestResult> SendAsync(RequestKind kind, FaultUser user, ChatClient sdk, string message)
    {
        using var timeout = new CancellationTokenSource(_options.RequestTimeout);
        try
        {
            return kind switch
            {
                RequestKind.ChatStream => await ChatAsync(user, message, json: false, timeout.Token),
                RequestKind.ChatJson => await ChatAsync(user, message, json: true, timeout.Token),
                RequestKind.CompletionStream => await CompletionStreamAsync(user, message, timeout.Token),
                _ => await CompletionSdkAsync(sdk, message, timeout.Token),
            };
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return new RequestResult(kind, Outcome.Other, "client timeout", 0, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Whatever else a client library throws (a body cut short, say): seen, counted, not a crash of the load.
            return new RequestResult(kind, Outcome.Other, e.GetType().Name, 0, null);
        }
    }

    private async Task<RequestResult> ChatAsync(FaultUser user, string message, bool json, CancellationToken ct)
    {
        var kind = json ? RequestKind.ChatJson : RequestKind.ChatStream;
        using var request = user.Request(HttpMethod.Post, "/api/chat");
        request.Content = JsonContent.Create(new { message, maxTokens = _options.MaxTokens });
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(json ? "application/json" : "text/event-stream"));
        var (response, refused) = await StatusAsync(kind, request, ct);
        if (response is null)
        {
            return refused!;
        }
        using (response)
        {
            try
            {
                if (json)
                {
                    var answer = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
                    return answer.GetProperty("finishReason").GetString() == "interrupted"
                        ? new RequestResult(kind, Outcome.Broken, "interrupted", 0, null)
                        : new RequestResult(kind, Outcome.Served, "", answer.GetProperty("usage").GetProperty("credits").GetInt64(), null);
                }
                string? eventName = null;
                var failed = false;
                await foreach (var line in LinesAsync(response, ct))
                {
                    if (line.StartsWith("event: ", StringComparison.Ordinal))
                    {
                        eventName = line[7..];
                        failed |= eventName == "error";
                    }
                    else if (line.StartsWith("data: ", StringComparison.Ordinal) && eventName == "done")
                    {
                        var done = JsonDocument.Parse(line[6..]).RootElement;
                        return failed || done.GetProperty("finishReason").GetString() == "interrupted"
                            ? new RequestResult(kind, Outcome.Broken, "error event", 0, null)
                            : new RequestResult(kind, Outcome.Served, "", done.GetProperty("usage").GetProperty("credits").GetInt64(), null);
                    }
                }
                return new RequestResult(kind, Outcome.Broken, "ended without done", 0, null);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException or KeyNotFoundException)
            {
                return new RequestResult(kind, Outcome.Broken, e.GetType().Name, 0, null);
            }
        }
    }

    private async Task<RequestResult> CompletionStreamAsync(FaultUser user, string message, CancellationToken ct)
    {
        const RequestKind kind = RequestKind.CompletionStream;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new
            {
                model = FaultSystem.Model,
                stream = true,
                stream_options = new { include_usage = true },
                max_tokens = _options.MaxTokens,
                messages = new[] { new { role = "user", content = message } },
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.ApiKey);
        var (response, refused) = await StatusAsync(kind, request, ct);
        if (response is null)
        {
            return refused!;
        }
        using (response)
        {
            long credits = 0;
            Guid? reservation = null;
            var failed = false;
            try
            {
                await foreach (var line in LinesAsync(response, ct))
                {
                    if (!line.StartsWith("data: ", StringComparison.Ordinal))
                    {
                        continue;
                    }
                    if (line == "data: [DONE]")
                    {
                        return failed
                            ? new RequestResult(kind, Outcome.Broken, "error chunk", 0, null)
                            : new RequestResult(kind, Outcome.Served, "", credits, reservation);
                    }
                    var chunk = JsonDocument.Parse(line[6..]).RootElement;
                    failed |= chunk.TryGetProperty("error", out _);
                    reservation ??= chunk.TryGetProperty("id", out var id) ? ReservationOf(id.GetString()) : null;
                    // local-model costs 1 credit per input and per output token (services/Chat/appsettings.json).
                    if (chunk.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                    {
                        credits = usage.GetProperty("total_tokens").GetInt64();
                    }
                }
                return new RequestResult(kind, Outcome.Broken, "ended without [DONE]", 0, null);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException or KeyNotFoundException)
            {
                return new RequestResult(kind, Outcome.Broken, e.GetType().Name, 0, null);
            }
        }
    }

    private async Task<RequestResult> CompletionSdkAsync(ChatClient sdk, string message, CancellationToken ct)
    {
        const RequestKind kind = RequestKind.CompletionSdk;
        try
        {
            ChatCompletion completion = await sdk.CompleteChatAsync([new UserChatMessage(message)],
                new ChatCompletionOptions { MaxOutputTokenCount = _options.MaxTokens }, ct);
            return new RequestResult(kind, Outcome.Served, "", completion.Usage.TotalTokenCount, ReservationOf(completion.Id));
        }
        catch (ClientResultException e)
        {
            return e.Status switch
            {
                0 => new RequestResult(kind, Outcome.Other, $"no response ({e.InnerException?.GetType().Name ?? e.Message})", 0, null),
                402 => new RequestResult(kind, Outcome.Refused402, "", 0, null),
                503 => new RequestResult(kind, Outcome.Unavailable503, Unavailable(e.Message), 0, null),
                _ => new RequestResult(kind, Outcome.Other, e.Status.ToString(), 0, null),
            };
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return new RequestResult(kind, Outcome.Other, $"no response ({e.GetType().Name})", 0, null);
        }
    }

    // The status line: answers the response when it is 200, else what the client saw instead.
    private async Task<(HttpResponseMessage? Response, RequestResult? Refused)> StatusAsync(RequestKind kind, HttpRequestMessage request, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await _system.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return (null, new RequestResult(kind, Outcome.Other, $"no response ({e.GetType().Name})", 0, null));
        }
        if (response.StatusCode == HttpStatusCode.OK)
        {
            return (response, null);
        }
        using (response)
        {
            var body = "";
            try
            {
                body = await response.Content.ReadAsStringAsync(ct);
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
            }
            return (null, (int)response.StatusCode switch
            {
                402 => new RequestResult(kind, Outcome.Refused402, "", 0, null),
                503 => new RequestResult(kind, Outcome.Unavailable503, Unavailable(body), 0, null),
                var status => new RequestResult(kind, Outcome.Other, status.ToString(), 0, null),
            });
        }
    }

    // Chat's own 503 says nothing was charged; the edge's says the service could not be reached.
    private static string Unavailable(string body) =>
        body.Contains("nothing was charged", StringComparison.OrdinalIgnoreCase) ? "nothing was charged" : "from the edge";

    private static Guid? ReservationOf(string? completionId) =>
        completionId is { } id && id.StartsWith("chatcmpl-", StringComparison.Ordinal) && Guid.TryParseExact(id[9..], "N", out var reservation) ? reservation : null;

    private static async IAsyncEnumerable<string> LinesAsync(HttpResponseMessage response, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            yield return line;
        }
    }
}
