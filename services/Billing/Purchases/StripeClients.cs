using Microsoft.Extensions.Options;
using Stripe;

namespace Gateway.Billing.Purchases;

// A StripeClient for one call: Billing:Stripe's secret key and ApiBase, on a client from the factory.
public sealed class StripeClients(IHttpClientFactory httpClients, IOptions<StripeOptions> options)
{
    public const string HttpClientName = "stripe";

    public IStripeClient Create()
    {
        var settings = options.Value;
        return new StripeClient(
            apiKey: settings.SecretKey,
            httpClient: new SystemNetHttpClient(httpClients.CreateClient(HttpClientName)),
            apiBase: settings.ApiBase.TrimEnd('/'));
    }
}
