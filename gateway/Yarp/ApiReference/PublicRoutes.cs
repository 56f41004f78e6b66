using Microsoft.AspNetCore.Routing.Template;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Edge.ApiReference;

// Which cluster the edge would send a path to, decided as YARP decides: route order, then the most
// specific pattern (a literal path beats a catch-all), then whether the method is allowed.
public sealed class PublicRoutes
{
    private readonly List<(RouteConfig Route, TemplateMatcher Matcher)> _routes;

    public PublicRoutes(IReadOnlyList<RouteConfig> routes) =>
        _routes = routes
            .Where(route => route.Match.Path is not null)
            .Select(route => (Route: route, Template: TemplateParser.Parse(route.Match.Path!)))
            .OrderBy(r => r.Route.Order ?? 0)
            .ThenBy(r => RoutePrecedence.ComputeInbound(r.Template))
            .Select(r => (r.Route, new TemplateMatcher(r.Template, new RouteValueDictionary())))
            .ToList();

    // The cluster a request for this path (an OpenAPI template such as /api/keys/{id}) and method reaches, if any.
    public string? ClusterFor(string path, string method)
    {
        foreach (var (route, matcher) in _routes)
        {
            if (!matcher.TryMatch(path, new RouteValueDictionary()))
            {
                continue;
            }
            if (route.Match.Methods is { Count: > 0 } methods && !methods.Contains(method, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }
            return route.ClusterId;
        }
        return null;
    }
}
