using System.ClientModel;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Gateway.Chat.Upstream;

// A piece of the answer as it arrives: text, or the model's activity (a tool call, its reasoning).
public abstract record AnswerPiece;
public sealed record TextPiece(string Text) : AnswerPiece;
public sealed record ActivityPiece(string Type, string? Name, string? Detail) : AnswerPiece;

// A tool the model called during the answer: its arguments and what it returned (each as the JSON the model saw), or
// the error that stopped it; Result is null when the answer ended before the tool did.
public sealed record ToolUse(string Name, string? Arguments, string? Result);

public enum CallEnd { Running, Completed, CallerLeft, Failed }

// What the answer may cost: asked before more of it is read; false ends the answer there, as the model's own output
// limit would (finish reason "length"). CompleteAsync settles whatever it was doing once the answer has ended.
public interface IOutputBudget
{
    ValueTask<bool> CoversAsync(long outputTokens, CancellationToken cancellationToken);

    Task CompleteAsync();
}

// One streamed call to the model. Always streamed upstream, even for a JSON answer, so that a caller who
// leaves, a timeout or a failure mid-answer all end the same way: with what was produced so far, counted.
// It goes down the model's routes: an upstream that fails, or has not begun answering within FirstTokenTimeout,
// is given up for the next one; once any output has come, there is no other.
public sealed class UpstreamCall : IAsyncDisposable
{
    private readonly CancellationTokenSource _cancel;
    private readonly CancellationToken _caller;
    private readonly PricedModel _model;
    private readonly IList<ChatMessage> _messages;
    private readonly Microsoft.Extensions.AI.ChatOptions? _options;
    private readonly TimeSpan _firstTokenTimeout;
    private readonly ILogger? _logger;
    private int _route = -1;
    private CancellationTokenSource _attempt = null!;
    private IAsyncEnumerator<ChatResponseUpdate> _updates = null!;
    private readonly StringBuilder _text = new();
    private readonly Queue<AnswerPiece> _pending = new();
    private readonly TimeSpan _timeout;
    private readonly IOutputBudget? _budget;
    private readonly Func<string, int>? _countTokens;
    private long _outputTokens;
    private readonly Func<IChatClient, IChatClient>? _around;
    private readonly List<ToolUse> _toolUses = [];
    private readonly Dictionary<string, int> _toolUseByCallId = [];

    public UpstreamCall(PricedModel model, IList<ChatMessage> messages, Microsoft.Extensions.AI.ChatOptions? options, TimeSpan timeout, CancellationToken caller,
        IOutputBudget? budget = null, Func<string, int>? countTokens = null, TimeSpan? firstTokenTimeout = null, ILogger? logger = null,
        Func<IChatClient, IChatClient>? around = null)
    {
        _around = around;
        _model = model;
        _messages = messages;
        _options = options;
        _caller = caller;
        _timeout = timeout;
        _firstTokenTimeout = firstTokenTimeout ?? timeout;
        _budget = budget;
        _countTokens = countTokens;
        _logger = logger;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(caller);
        _cancel.CancelAfter(timeout);
        StartNextRoute();
    }

    // The route that is answering (or was last tried).
    public ModelRoute Route => _model.Routes[_route];

    public string Text => _text.ToString();
    public IReadOnlyList<ToolUse> ToolUses => _toolUses;
    public CallEnd End { get; private set; } = CallEnd.Running;
    public bool ProducedOutput { get; private set; }
    public long? ReportedInputTokens { get; private set; }
    public long? ReportedOutputTokens { get; private set; }
    public string? FinishReason { get; private set; }
    public int FailureStatus { get; private set; }
    public string? FailureDetail { get; private set; }

    // The next piece of the answer, or null when the call has ended (see End).
    public async ValueTask<AnswerPiece?> NextAsync()
    {
        while (_pending.Count == 0 && End == CallEnd.Running)
        {
            try
            {
                if (_budget is not null && !await _budget.CoversAsync(_outputTokens, _cancel.Token))
                {
                    // Not paid for beyond this: the answer ends here, as at the model's own limit (unless the caller left).
                    End = _caller.IsCancellationRequested ? CallEnd.CallerLeft : CallEnd.Completed;
                    FinishReason = End == CallEnd.Completed ? "length" : FinishReason;
                    break;
                }
                if (!await _updates.MoveNextAsync())
                {
                    End = CallEnd.Completed;
                    break;
                }
                Read(_updates.Current);
            }
            catch (OperationCanceledException) when (_caller.IsCancellationRequested)
            {
                End = CallEnd.CallerLeft;
            }
            catch (Gateway.Chat.Metering.ModelCallRefused ex)
            {
                Fail(ex.Refusal.Status, ex.Refusal.Detail);
            }
            catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
            {
                Fail(StatusCodes.Status504GatewayTimeout, $"The model did not finish answering within {_timeout.TotalSeconds:0.#} s.");
            }
            catch (OperationCanceledException)
            {
                await FailOrFallBackAsync(StatusCodes.Status504GatewayTimeout, $"The model did not begin answering within {_firstTokenTimeout.TotalSeconds:0.#} s.");
            }
            catch (ClientResultException ex)
            {
                await FailOrFallBackAsync(StatusCodes.Status502BadGateway, $"The model provider failed: {Describe(ex)}");
            }
            catch (Anthropic.Exceptions.AnthropicException ex)
            {
                await FailOrFallBackAsync(StatusCodes.Status502BadGateway, $"The model provider failed: {ex.Message.Split('\n')[0]}");
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException or InvalidOperationException)
            {
                await FailOrFallBackAsync(StatusCodes.Status502BadGateway, Unreadable(ex));
            }
        }
        return _pending.TryDequeue(out var piece) ? piece : null;
    }

    // Stops the call: the caller went away while we were writing to them.
    public void CallerLeft()
    {
        if (End == CallEnd.Running)
        {
            End = CallEnd.CallerLeft;
        }
        _cancel.Cancel();
    }

    private void Read(ChatResponseUpdate update)
    {
        if (update.FinishReason is { } finish)
        {
            FinishReason = finish.Value;
        }
        foreach (var content in update.Contents)
        {
            switch (content)
            {
                case TextContent { Text.Length: > 0 } text:
                    Began();
                    _text.Append(text.Text);
                    _outputTokens += _countTokens?.Invoke(text.Text) ?? 0;
                    _pending.Enqueue(new TextPiece(text.Text));
                    break;
                case TextReasoningContent { Text.Length: > 0 } reasoning:
                    Began();
                    _pending.Enqueue(new ActivityPiece("reasoning", null, reasoning.Text));
                    break;
                case FunctionCallContent call:
                    Began();
                    var arguments = call.Arguments is null ? null : JsonSerializer.Serialize(call.Arguments);
                    _toolUseByCallId[call.CallId] = _toolUses.Count;
                    _toolUses.Add(new ToolUse(call.Name, arguments, null));
                    _pending.Enqueue(new ActivityPiece("tool_call", call.Name, arguments));
                    break;
                case FunctionResultContent result:
                    var returned = result.Exception is { } failed ? failed.Message : JsonSerializer.Serialize(result.Result);
                    string? name = null;
                    if (_toolUseByCallId.TryGetValue(result.CallId, out var index))
                    {
                        name = _toolUses[index].Name;
                        _toolUses[index] = _toolUses[index] with { Result = returned };
                    }
                    _pending.Enqueue(new ActivityPiece("tool_result", name, returned));
                    break;
                case UsageContent usage:
                    ReportedInputTokens = usage.Details.InputTokenCount ?? ReportedInputTokens;
                    ReportedOutputTokens = usage.Details.OutputTokenCount ?? ReportedOutputTokens;
                    break;
            }
        }
    }

    // Before any output the next route, if there is one, gets the call; after output, or with none left, it fails.
    private async Task FailOrFallBackAsync(int status, string detail)
    {
        if (ProducedOutput || _route + 1 >= _model.Routes.Count)
        {
            Fail(status, detail);
            return;
        }
        var failed = Route;
        await DisposeAttemptAsync();
        StartNextRoute();
        _logger?.LogWarning("{Provider} failed for {Model} before answering ({Reason}); trying {Next}", failed.Provider, _model.Id, detail, Route.Provider);
        System.Diagnostics.Activity.Current?.AddEvent(new("upstream fallback", tags: new() { ["from"] = failed.Provider, ["to"] = Route.Provider, ["reason"] = detail }));
    }

    private void StartNextRoute()
    {
        _route++;
        _attempt = CancellationTokenSource.CreateLinkedTokenSource(_cancel.Token);
        if (_route + 1 < _model.Routes.Count)
        {
            _attempt.CancelAfter(_firstTokenTimeout); // only worth giving up on when there is another to ask
        }
        // A route that takes the caller's key has its client once ProviderKeys.ForCallerAsync made one for this request.
        // A tool loop goes around the route's client (MeteredRounds), so each of its calls takes this route.
        var client = _around is null ? Route.Client! : _around(Route.Client!);
        _updates = client.GetStreamingResponseAsync(_messages, _options, _attempt.Token).GetAsyncEnumerator(_attempt.Token);
    }

    private async ValueTask DisposeAttemptAsync()
    {
        _attempt.Cancel();
        try
        {
            await _updates.DisposeAsync();
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
        {
        }
        _attempt.Dispose();
    }

    // The first output: this route answers, with no first-token limit any more and no other route after it.
    private void Began()
    {
        if (!ProducedOutput)
        {
            ProducedOutput = true;
            _attempt.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    private void Fail(int status, string detail)
    {
        End = CallEnd.Failed;
        FailureStatus = status;
        FailureDetail = detail;
    }

    // Why a provider's answer could not be read, in words a caller can act on, not the socket's or the parser's own (the
    // chat trial was told "Unable to read data from the transport connection: Connection reset by peer").
    internal static string Unreadable(Exception ex) => ex switch
    {
        JsonException => "The model provider answered with something that is not its API's JSON.",
        _ when Gateway.ServiceDefaults.RepeatedFailures.Reason(ex) is var reason && reason != ex.GetType().Name => $"The model provider's answer broke off ({reason}).",
        _ => "The model provider's answer broke off.",
    };

    internal static string Describe(ClientResultException ex) => Describe(ex, out _);

    // The same, and the request's parameter the provider's error names (OpenAI's error.param), to name it to the caller too.
    internal static string Describe(ClientResultException ex, out string? param)
    {
        param = null;
        var body = ex.GetRawResponse()?.Content?.ToString();
        try
        {
            if (body is { Length: > 0 } && JsonDocument.Parse(body).RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var message))
            {
                param = error.TryGetProperty("param", out var named) && named.ValueKind == JsonValueKind.String ? named.GetString() : null;
                return $"{ex.Status} {message.GetString()}";
            }
        }
        catch (JsonException)
        {
        }
        if (ex.Status > 0)
        {
            return $"{ex.Status} {ex.Message.Split('\n')[0]}";
        }
        // No response at all (connection refused, DNS): the reason names the provider's address, which is
        // ours to know, not the caller's; it stays on the trace.
        System.Diagnostics.Activity.Current?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message.Split('\n')[0]);
        return "it could not be reached.";
    }

    // A hold the budget is still asking for is awaited before the call is cancelled, so that it joins the others and is
    // charged or released with them rather than made by Billing after the turn has settled. It still runs under the
    // call's token: a caller who left or the call's timeout stops it.
    public async ValueTask DisposeAsync()
    {
        if (_budget is not null)
        {
            await _budget.CompleteAsync();
        }
        _cancel.Cancel();
        await DisposeAttemptAsync();
        _cancel.Dispose();
    }
}
