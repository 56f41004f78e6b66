using System.Text.Json;
using Gateway.ServiceDefaults;

namespace Gateway.Identity.Profile;

// What GET /api/user shows from other services, read with the caller token the edge signed for this request: the
// caller's credits from Billing's own GET /api/tokens/balance, their assistant from Chat's own GET /api/assistant. Each
// answers for the same caller, by the same rules, as when the edge forwards that route. Never the reason a profile
// fails: when a service cannot answer (down, slow, refusing), that part is unknown (null).
public sealed class ProfileReads(HttpClient http, RepeatedFailures failures)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public Task<CreditBalance?> BalanceAsync(HttpRequest request, CancellationToken cancellationToken) =>
        GetAsync<CreditBalance>(request, "http://billing/api/tokens/balance", "Reading the caller's balance from Billing", cancellationToken);

    public Task<AssistantState?> AssistantAsync(HttpRequest request, CancellationToken cancellationToken) =>
        GetAsync<AssistantState>(request, "http://chat/api/assistant", "Reading the caller's assistant from Chat", cancellationToken);

    private async Task<T?> GetAsync<T>(HttpRequest request, string url, string what, CancellationToken cancellationToken) where T : class
    {
        if (request.Headers[CallerAuthentication.HeaderName] is not [{ Length: > 0 } callerToken])
        {
            return null;
        }
        using var message = new HttpRequestMessage(HttpMethod.Get, url);
        message.Headers.Add(CallerAuthentication.HeaderName, callerToken);
        try
        {
            using var response = await http.SendAsync(message, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                failures.Record(what, $"it answered {(int)response.StatusCode}");
                return null;
            }
            var answer = await response.Content.ReadFromJsonAsync<T>(cancellationToken);
            failures.Recovered(what);
            return answer;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested
            && ex is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException)
        {
            failures.Record(what, RepeatedFailures.Reason(ex));
            return null;
        }
    }
}

// Billing's BalanceResponse: available = balance - held.
public sealed record CreditBalance(long Balance, long Held, long Available);

// Chat's answer for the caller's assistant: stopped, starting, running, stopping or failed, and why.
public sealed record AssistantState(string Status, string? Reason);
