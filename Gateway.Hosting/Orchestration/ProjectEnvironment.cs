using System.Collections;

namespace Gateway.Hosting.Orchestration;

/// <summary>
/// The environment a project starts with, in Aspire's names only: ConnectionStrings__&lt;name&gt; for every server or
/// database it references, services__&lt;name&gt;__http__0 for every project it calls, its own URL, its OTel name
/// and where its telemetry goes.
/// </summary>
internal static class ProjectEnvironment
{
    private static readonly string[] NotInherited = ["ConnectionStrings__", "services__"];

    /// <param name="otlpEndpoint">The dashboard's OTLP/HTTP receiver; without one, the AppHost's own OTEL_EXPORTER_OTLP_ENDPOINT (if any) is passed on.</param>
    public static Dictionary<string, string?> For(ProjectResource project, string url, Func<IResource, ResourceRunner> runnerOf, string? otlpEndpoint = null)
    {
        var environment = new Dictionary<string, string?>();
        // What the AppHost itself was given (e.g. ConnectionStrings__postgres) is not for the services to see.
        foreach (DictionaryEntry inherited in Environment.GetEnvironmentVariables())
        {
            var name = (string)inherited.Key;
            if (NotInherited.Any(prefix => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
            {
                environment[name] = null;
            }
        }

        environment["ASPNETCORE_URLS"] = url;
        environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        environment["OTEL_SERVICE_NAME"] = project.Name;
        if (otlpEndpoint is not null)
        {
            // The dashboard receives OTLP over HTTP; it wants to show a request within a second or two of it happening.
            environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpEndpoint;
            environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
            environment["OTEL_BSP_SCHEDULE_DELAY"] = "1000";
            environment["OTEL_BLRP_SCHEDULE_DELAY"] = "1000";
            environment["OTEL_METRIC_EXPORT_INTERVAL"] = "5000";
            // A batch the dashboard could not take (busy, or still starting) is sent again rather than lost: a
            // service's start-up lines are exported once, in its first batch.
            environment["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"] = "in_memory";
            // Retries stop at the export's deadline (10 s by default): on a machine busy starting everything at once
            // that was once too short for a service's first batch. Exports run off the request path.
            environment["OTEL_EXPORTER_OTLP_TIMEOUT"] = "30000";
        }
        else
        {
            environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") is { Length: > 0 } otlp ? otlp : null;
        }

        foreach (var reference in project.References)
        {
            var runner = runnerOf(reference);
            switch (runner)
            {
                case IConnectionStringSource source:
                    environment[$"ConnectionStrings__{reference.Name}"] = source.ConnectionStringFor(reference);
                    break;
                case ProjectRunner other:
                    environment[$"services__{reference.Name}__http__0"] = other.Url;
                    break;
            }
        }
        foreach (var (name, value) in project.Environment)
        {
            environment[name] = value();
        }
        return environment;
    }
}
