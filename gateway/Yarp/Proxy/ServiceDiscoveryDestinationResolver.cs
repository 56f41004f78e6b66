using System.Net;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Gateway.Edge.Proxy;

// Turns a cluster address such as "http://billing" into every endpoint service discovery knows for it
// (services__billing__http__0, __1, …), and reloads when discovery reports a change.
public sealed class ServiceDiscoveryDestinationResolver(ServiceEndpointResolver resolver) : IDestinationResolver
{
    public async ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(
        IReadOnlyDictionary<string, DestinationConfig> destinations, CancellationToken cancellationToken)
    {
        var resolved = new Dictionary<string, DestinationConfig>();
        var changeTokens = new List<IChangeToken>();

        foreach (var (name, destination) in destinations)
        {
            var address = new Uri(destination.Address);
            var source = await resolver.GetEndpointsAsync(address.GetLeftPart(UriPartial.Authority), cancellationToken);
            changeTokens.Add(source.ChangeToken);

            var index = 0;
            foreach (var endpoint in source.Endpoints)
            {
                var uri = ToUri(address, endpoint.EndPoint);
                resolved[$"{name}[{index++}]"] = destination with { Address = uri.ToString(), Host = destination.Host };
            }
        }

        return new ResolvedDestinationCollection(resolved, new CompositeChangeToken(changeTokens));
    }

    private static Uri ToUri(Uri configured, EndPoint endpoint)
    {
        var builder = new UriBuilder(configured);
        switch (endpoint)
        {
            case IPEndPoint ip:
                builder.Host = ip.Address.ToString();
                builder.Port = ip.Port;
                break;
            case DnsEndPoint dns:
                builder.Host = dns.Host;
                builder.Port = dns.Port;
                break;
            default:
                return new Uri(endpoint.ToString()!);
        }
        return builder.Uri;
    }
}
