using System.Text.Json;
using Gateway.ServiceDefaults;

namespace Gateway.Identity.Credits;

// The caller's credits, read from Billing's own GET /api/tokens/balance with the caller token the edge signed for this
// request: Billing answers for the same caller, by the same rules, as when the edge forwards that route. Never the
// reason a profile fails: when Billing cannot answer (down, slow, refusing), the balance is unknown (null).
public sealed class BillingBalances(HttpClient http, RepeatedFailures failures)
{
    public const string BaseAddress = "http://billing";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);
    private const string What = "Reading the caller's balance from Billing";

    public async Task<CreditBalance?> ForCallerAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.Headers[CallerAuthentication.HeaderName] is not [{ Length: > 0 } callerToken])
        {
            return null;
        }
        using var message = new HttpRequestMessage(HttpMethod.Get, "/api/tokens/balance");
        message.Headers.Add(CallerAuthentication.HeaderName, callerToken);
        try
        {
            using var response = await http.SendAsync(message, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                failures.Record(What, $"Billing answered {(int)response.StatusCode}");
                return null;
            }
            var balance = await response.Content.ReadFromJsonAsync<CreditBalance>(cancellationToken);
            failures.Recovered(What);
            return balance;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested
            && ex is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException)
        {
            failures.Record(What, RepeatedFailures.Reason(ex));
            return null;
        }
    }
}

// Billing's BalanceResponse: available = balance - held.
public sealed record CreditBalance(long Balance, long Held, long Available);
