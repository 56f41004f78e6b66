using System.ClientModel;
using Gateway.Chat.Upstream;
using Gateway.MockLlm;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Chat.Tests;

// How a call ends with its output budget (a low-balance caller's growing hold): a hold still being asked for when the
// answer ends is awaited under a live token, so that it joins the others and is settled with them; a caller who left
// stops it. MockLlm answers over OpenAI's protocol through the official client; the budget only records what it saw.
public sealed class UpstreamCallTests
{
    private static CancellationToken Cancel => ChatSystem.Cancel;

    [Fact]
    public async Task A_hold_still_being_asked_for_when_the_answer_ends_is_completed_before_the_call_is_cancelled()
    {
        await using var model = await MockLlmServer.StartAsync();
        var budget = new RecordingBudget();
        var call = Call(model, "Say something [mock:tokens=8]", budget, Cancel);

        while (await call.NextAsync() is not null)
        {
        }
        Assert.Equal(CallEnd.Completed, call.End);
        await call.DisposeAsync();

        Assert.False(budget.TokenCancelledAtCompletion, "the growth's token was cancelled before CompleteAsync: a hold in flight would be abandoned");
    }

    [Fact]
    public async Task A_caller_who_left_stops_the_hold_being_asked_for()
    {
        await using var model = await MockLlmServer.StartAsync();
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        var budget = new RecordingBudget();
        var call = Call(model, "Say something and then stall [mock:hang-after=4]", budget, caller.Token);

        Assert.NotNull(await call.NextAsync());
        await caller.CancelAsync();
        while (await call.NextAsync() is not null)
        {
        }
        Assert.Equal(CallEnd.CallerLeft, call.End);
        await call.DisposeAsync();

        Assert.True(budget.TokenCancelledAtCompletion);
    }

    private static UpstreamCall Call(MockLlmServer model, string prompt, IOutputBudget budget, CancellationToken caller)
    {
        var client = new OpenAIClient(new ApiKeyCredential("sk-test"), new OpenAIClientOptions { Endpoint = model.BaseUrl })
            .GetChatClient("local-model").AsIChatClient();
        var priced = new PricedModel("local-model", [new ModelRoute("mock", "local-model", client)], 1, 1, 1_000, 8_000);
        return new UpstreamCall(priced, [new ChatMessage(ChatRole.User, prompt)], null, TimeSpan.FromSeconds(30), caller, budget, _ => 1);
    }

    // Covers everything, and notes whether the token it was given for growing was already cancelled when the answer ended.
    private sealed class RecordingBudget : IOutputBudget
    {
        private CancellationToken _token;

        public bool TokenCancelledAtCompletion { get; private set; }

        public ValueTask<bool> CoversAsync(long outputTokens, CancellationToken cancellationToken)
        {
            _token = cancellationToken;
            return ValueTask.FromResult(true);
        }

        public Task CompleteAsync()
        {
            TokenCancelledAtCompletion = _token.IsCancellationRequested;
            return Task.CompletedTask;
        }
    }
}
