using System.Net;
using System.Security.Cryptography;
using System.Text;
using Gateway.Chat.Metering;
using Gateway.ServiceDefaults;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Memory;

namespace Gateway.Chat.Upstream;

// Bring your own key: a provider configured with VaultSecret is called with the caller's own API key for it, kept in
// their vault (Keys). For each request to such a model, Bind reads it from Keys with the caller token the edge signed
// for this request — so Chat reads only the secret of the caller it is serving — and gives the model's routes clients
// made with it. A caller without the secret is routed past that provider; with no route left, refused before any
// credit is held. The key is never stored or logged here; the clients made with it are kept a while (in memory, by
// the key's hash) so that a caller's requests share connections.
public sealed class ProviderKeys(IHttpClientFactory clients, ILogger<ProviderKeys> logger)
{
    public const string KeysClient = "keys-vault";
    private static readonly TimeSpan KeepClient = TimeSpan.FromMinutes(10);
    private readonly MemoryCache _clients = new(new MemoryCacheOptions());

    // The model with its routes as this caller may use them; when refused, the model as it was (not to be called).
    public async Task<(PricedModel Model, Refusal? Refusal)> ForCallerAsync(PricedModel model, string? callerToken, CancellationToken cancellationToken)
    {
        if (model.Routes.All(r => r.VaultSecret is null))
        {
            return (model, null);
        }
        var routes = new List<ModelRoute>();
        var keys = new Dictionary<string, string?>();
        foreach (var route in model.Routes)
        {
            if (route.VaultSecret is not { } secret)
            {
                routes.Add(route);
                continue;
            }
            if (!keys.TryGetValue(secret, out var key))
            {
                try
                {
                    keys[secret] = key = await RevealAsync(secret, callerToken, cancellationToken);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    // Unreachable, timed out, an error status, or the resilience pipeline's own refusal (an open circuit).
                    logger.LogWarning("Could not read a caller's {Provider} key from Keys: {Reason}", route.Provider, ex.Message);
                    return (model, new Refusal(StatusCodes.Status503ServiceUnavailable, "Keys unavailable",
                        $"Your {route.Provider} API key could not be read from your vault just now, so nothing was sent to the model and nothing was charged. Try again shortly."));
                }
            }
            if (key is not null)
            {
                routes.Add(route with { Client = ClientFor(route, key) });
            }
        }
        if (routes.Count > 0)
        {
            return (model with { Routes = routes }, null);
        }
        var wanted = model.Routes.First(r => r.VaultSecret is not null);
        return (model, new Refusal(StatusCodes.Status403Forbidden, "Your API key is needed",
            $"The model '{model.Id}' runs with your own {wanted.Provider} API key: store it in your vault as '{wanted.VaultSecret}' " +
            $"(POST /api/vault with {{\"name\": \"{wanted.VaultSecret}\", \"value\": \"<your key>\"}}). Nothing was charged."));
    }

    private IChatClient ClientFor(ModelRoute route, string key)
    {
        var id = (route.Provider, route.Model, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key))));
        return _clients.GetOrCreate(id, entry =>
        {
            entry.SlidingExpiration = KeepClient;
            entry.RegisterPostEvictionCallback((_, client, _, _) => (client as IDisposable)?.Dispose());
            return route.WithKey!(key);
        })!;
    }

    // The caller's secret, null when they have none by that name; Keys not answering is a failure, not a missing key.
    private async Task<string?> RevealAsync(string name, string? callerToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://keys/internal/vault/reveal") { Content = JsonContent.Create(new { name }) };
        request.Headers.Add(CallerAuthentication.HeaderName, callerToken);
        using var response = await clients.CreateClient(KeysClient).SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"Keys answered {(int)response.StatusCode}.", null, response.StatusCode);
        }
        return (await response.Content.ReadFromJsonAsync<RevealedSecret>(cancellationToken))!.Value;
    }

    private sealed record RevealedSecret(string Value);
}
