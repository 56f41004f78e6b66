using Microsoft.Extensions.Options;
using AI = Microsoft.Extensions.AI;

namespace Gateway.Chat.Assistants;

// What a chat turn gets when its user's assistant is running: the assistant's instructions (its name, the owner's
// interests and timezone) and the workspace tools, run inside the owner's own process.
public sealed record AssistantTurn(AI.ChatMessage Instructions, AssistantTools Tools, int MaxModelCalls);

public sealed class AssistantTurns(AssistantLifecycle lifecycle, IHttpClientFactory clients, IOptions<AssistantOptions> options, TimeProvider clock)
{
    // Null when the user's assistant is not running: the turn is a plain chat.
    public async Task<AssistantTurn?> ForAsync(Guid userId, CancellationToken cancellationToken)
    {
        if (await lifecycle.ToolsAsync(userId, cancellationToken) is not { } running)
        {
            return null;
        }
        var http = clients.CreateClient(AssistantTools.ClientName);
        http.Timeout = options.Value.ToolTimeout;
        return new AssistantTurn(new AI.ChatMessage(AI.ChatRole.System, running.Settings.Instructions(clock.GetUtcNow())),
            new AssistantTools(http, running.Endpoint, running.Secret), options.Value.MaxModelCalls);
    }
}
