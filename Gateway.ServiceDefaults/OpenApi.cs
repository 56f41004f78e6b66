using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.OpenApi;

namespace Gateway.ServiceDefaults;

// Each service describes its own endpoints at /openapi/v1.json for the edge to merge (docs/api-reference.md).
// The document is reachable only inside the system: the edge routes no public path to it.
public static class OpenApi
{
    public const string DocumentPath = "/openapi/v1.json";

    // Marks an operation that needs no caller (register, login, a webhook); the edge turns it into "security": [].
    public const string AnonymousExtension = "x-gateway-anonymous";

    // Marks an operation a device calls with its own token (Bearer dvc_…); the edge describes that requirement.
    public const string DeviceExtension = "x-gateway-device";

    // Marks an operation only a person signed in with an access token may call (an API key is refused there).
    public const string PeopleExtension = "x-gateway-people";

    // Paths the edge never routes publicly stay out of the description, whichever service maps them.
    private static readonly string[] PrivatePrefixes = ["internal/", ".well-known/", "health/", "openapi/"];

    public static IHostApplicationBuilder AddOpenApiDocument(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOpenApi(options =>
        {
            var includedByDefault = options.ShouldInclude;
            options.ShouldInclude = description =>
                includedByDefault(description)
                && !PrivatePrefixes.Any(prefix => (description.RelativePath ?? "").StartsWith(prefix, StringComparison.OrdinalIgnoreCase));

            options.AddSchemaTransformer((schema, context, _) =>
            {
                MarkOnlyWhatMustBeSentAsRequired(schema, context.JsonTypeInfo);
                // Strings are read through our own converter (StringWithoutNulConverter), which hides their type from the generator;
                // a string? property may also be null.
                if (context.JsonTypeInfo.Type == typeof(string) && schema.Type is null)
                {
                    schema.Type = context.JsonPropertyInfo is { IsGetNullable: true, IsSetNullable: true }
                        ? JsonSchemaType.String | JsonSchemaType.Null
                        : JsonSchemaType.String;
                }
                // The web defaults also read numbers from strings, so the generator says "integer or string" with a
                // pattern; we write numbers as numbers, and document them so.
                if (IsNumber(context.JsonTypeInfo.Type) && schema.Type is { } type && type.HasFlag(JsonSchemaType.String))
                {
                    schema.Type = type & ~JsonSchemaType.String;
                    schema.Pattern = null;
                }
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(async (operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<IAllowAnonymous>().Any() || !metadata.OfType<IAuthorizeData>().Any())
                {
                    operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
                    operation.Extensions[AnonymousExtension] = new JsonNodeExtension(JsonValue.Create(true));
                }
                if (metadata.OfType<CalledByDevices>().Any())
                {
                    operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
                    operation.Extensions[DeviceExtension] = new JsonNodeExtension(JsonValue.Create(true));
                }
                if (await CallerAuthentication.TakesOnlyPeopleAsync(metadata, context.ApplicationServices))
                {
                    operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
                    operation.Extensions[PeopleExtension] = new JsonNodeExtension(JsonValue.Create(true));
                }
                AddEventStreams(operation, metadata);
            });
        });
        return builder;
    }

    private static bool IsNumber(Type type) => (Nullable.GetUnderlyingType(type) ?? type) is var t
        && (t == typeof(int) || t == typeof(long) || t == typeof(short) || t == typeof(byte) || t == typeof(decimal) || t == typeof(double) || t == typeof(float));

    // The generator keeps one answer type per status, so a 200 that is JSON or a stream of Server-Sent Events
    // (Chat's EventStreamResult declares the stream) lost its stream: it is added back beside the JSON.
    private static void AddEventStreams(OpenApiOperation operation, IList<object> metadata)
    {
        foreach (var produces in metadata.OfType<IProducesResponseTypeMetadata>().Where(p => p.ContentTypes.Contains("text/event-stream")))
        {
            if (operation.Responses?.TryGetValue(produces.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture), out var response) == true
                && response is OpenApiResponse { Content: { } content })
            {
                content.TryAdd("text/event-stream", new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } });
            }
        }
    }

    // The generator lists every constructor parameter of a record as required. A property is required only when
    // it cannot be null (a value type, or a reference type not annotated nullable) or is marked [Required]: our
    // request records take nullable members so that a missing field gets our own worded problem, and those that
    // must be sent say so with [property: Required].
    private static void MarkOnlyWhatMustBeSentAsRequired(OpenApiSchema schema, JsonTypeInfo type)
    {
        if (type.Kind != JsonTypeInfoKind.Object || schema.Required is not { Count: > 0 } required)
        {
            return;
        }
        foreach (var property in type.Properties)
        {
            var nullable = Nullable.GetUnderlyingType(property.PropertyType) is not null
                || (!property.PropertyType.IsValueType && property.IsSetNullable && property.IsGetNullable);
            var markedRequired = property.IsRequired
                || property.AttributeProvider?.IsDefined(typeof(RequiredAttribute), inherit: true) == true;
            if (nullable && !markedRequired)
            {
                required.Remove(property.Name);
            }
        }
    }

    public static WebApplication MapOpenApiDocument(this WebApplication app)
    {
        app.MapOpenApi(); // /openapi/{documentName}.json, so DocumentPath for the one document "v1"
        return app;
    }
}

// Endpoint metadata: a device calls this with its own token, checked by the handler (the caller pipeline lets it
// through as anonymous). .WithMetadata(new CalledByDevices()).
public sealed record CalledByDevices;
