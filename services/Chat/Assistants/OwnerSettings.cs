using System.Text.Json;
using Gateway.ServiceDefaults;

namespace Gateway.Chat.Assistants;

// The owner's settings for their assistant, read at start from Identity's own GET /api/user with the caller token the
// edge signed for this request (as Identity reads the balance from Billing): Identity answers for the same caller.
public sealed class OwnerSettings(IHttpClientFactory clients, ILogger<OwnerSettings> logger)
{
    public const string Client = "identity-settings";

    // Null when Identity could not answer (the start is refused: nothing runs without its instructions).
    public async Task<AssistantSettings?> ForCallerAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, "http://identity/api/user");
        message.Headers.Add(CallerAuthentication.HeaderName, request.Headers[CallerAuthentication.HeaderName].ToString());
        try
        {
            using var response = await clients.CreateClient(Client).SendAsync(message, cancellationToken);
            response.EnsureSuccessStatusCode();
            var profile = await response.Content.ReadFromJsonAsync<Profile>(cancellationToken);
            return new AssistantSettings
            {
                Name = profile?.Assistant?.Name, OwnerName = profile?.Name, Interests = profile?.Assistant?.Interests ?? [], Timezone = profile?.Timezone,
            };
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested
            && ex is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException)
        {
            logger.LogWarning("Could not read a caller's settings from Identity: {Reason}", ex.Message);
            return null;
        }
    }

    private sealed record Profile(string? Name, string? Timezone, ProfileAssistant? Assistant);

    private sealed record ProfileAssistant(string? Name, List<string>? Interests);
}
