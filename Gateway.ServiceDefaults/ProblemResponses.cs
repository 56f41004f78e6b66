using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.ServiceDefaults;

// Every error leaves a service as RFC 7807 problem details; never a stack trace.
public static partial class ProblemResponses
{
    public static IHostApplicationBuilder AddProblemResponses(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            context.ProblemDetails.Type ??= ApiProblems.TypeFor(context.ProblemDetails.Status);
            // The trace's id alone, as the dashboard shows and searches it: set over the framework's W3C traceparent
            // ("00-<trace>-<span>-01"), which the writer for event-stream requests does not add, so every problem has one form.
            var activity = context.HttpContext.Features.Get<IHttpActivityFeature>()?.Activity;
            context.ProblemDetails.Extensions["traceId"] = activity?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier;
            // A validation problem the framework makes has the shape of ApiProblems.Invalid's.
            if (context.ProblemDetails is HttpValidationProblemDetails { Errors.Count: > 0 } validation)
            {
                validation.Title = ApiProblems.InvalidTitle;
                validation.Detail ??= validation.Errors.First().Value.FirstOrDefault();
            }
            // The framework answers a known path with the wrong method with a bare 405 and the methods in Allow.
            if (context.ProblemDetails is { Status: StatusCodes.Status405MethodNotAllowed, Detail: null })
            {
                var request = context.HttpContext.Request;
                var allowed = context.HttpContext.Response.Headers.Allow.ToString();
                context.ProblemDetails.Detail = $"{request.Method} is not allowed on {request.Path}" + (allowed.Length > 0 ? $"; it takes {allowed}." : ".");
            }
            // No route matched: say which request that was, and where the routes are (a bare "Not Found" reads like a
            // missing resource). A route's own 404 (another user's resource, a session that does not exist) has its words.
            if (context.ProblemDetails is { Status: StatusCodes.Status404NotFound, Detail: null } && context.HttpContext.GetEndpoint() is null)
            {
                var request = context.HttpContext.Request;
                var path = request.Path.Value is { } text ? OneLineText.Shorten(text, 201) : null;
                context.ProblemDetails.Detail = $"No route answers {request.Method} {path}: the routes are listed in /openapi.json.";
                context.ProblemDetails.Title = ApiProblems.NotFoundTitle;
            }
            // The framework answers a body of the wrong type with a bare 415; every body our services take is JSON.
            if (context.ProblemDetails is { Status: StatusCodes.Status415UnsupportedMediaType, Detail: null })
            {
                var detail = $"The body must be JSON (Content-Type: application/json), not '{context.HttpContext.Request.ContentType ?? "none"}'.";
                context.ProblemDetails.Detail = detail;
                context.ProblemDetails.Extensions.TryAdd("errors", new Dictionary<string, string[]> { ["Content-Type"] = [detail] });
            }
        });
        // After the default writer: a problem for a request whose Accept names neither JSON nor problem+json (an event
        // stream asked for) was written bare by the framework, without the words and trace id every other one gets.
        builder.Services.AddSingleton<IProblemDetailsWriter, AnyAcceptProblemWriter>();
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();

        // Malformed bodies throw instead of answering an empty 400, so the handler below can name the field.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return builder;
    }

    // When the body is not JSON at all, or stops short, why in a caller's words; null for a JSON value the body's type
    // refused. The reader's own failure comes wrapped by the serializer, and its message is the parser's vocabulary
    // (depths, tokens, "Path: $.model | LineNumber: 0"); the caller gets where it broke instead.
    private static string? NotJson(JsonException json)
    {
        if (json.InnerException is not JsonException)
        {
            return null;
        }
        var where = json.LineNumber is { } line && json.BytePositionInLine is { } position
            ? $" at line {line + 1}, byte {position + 1}"
            : "";
        var member = (json.Path ?? "$").TrimStart('$').TrimStart('.');
        var inField = member.Length > 0 ? $" (in '{member}')" : "";
        if (TooDeep().Match(json.InnerException.Message) is { Success: true } deep)
        {
            return $"The request body nests arrays and objects more than {deep.Groups["depth"].Value} levels deep{where}{inField}.";
        }
        return $"The request body is not valid JSON: it breaks off or has something out of place{where}{inField}.";
    }

    // Why a JSON body was refused, in a caller's words: the field at fault (its JSON path, or "body") and why. For the
    // bodies the framework binds (below) and those a service reads itself (Chat's /v1, in OpenAI's error shape).
    public static (string Field, string Detail) Describe(JsonException json, Type? body) => json switch
    {
        _ when NotJson(json) is { } notJson => ("body", notJson),
        _ when MissingMembers().Match(json.Message) is { Success: true } missing => Required(Field(json.Path, missing.Groups["name"].Value)),
        // A member sent twice (AllowDuplicateProperties = false); the path ends at it in a record or a dictionary, and at
        // the object holding it in a member read as raw JSON (response_format), whose message names it.
        { Path: { Length: > 1 } path } when DuplicateMember().Match(json.Message) is { Success: true } duplicate =>
            Repeated(Field(path), duplicate.Groups["name"].Value),
        // A member the body's type does not have, where it says so ([JsonUnmappedMemberHandling(Disallow)]: the PATCH
        // bodies, where a misspelt member would otherwise change nothing and answer 200).
        // The path ends at the member; the type that lacks it is its parent's.
        { Path: { Length: > 1 } path } when UnknownMember().IsMatch(json.Message) => Unknown(Field(path), TypeAt(body, Parent(path))),
        // A lone half of a surrogate pair ("\ud800") is JSON a string cannot hold, though it is written as one.
        { Path: { Length: > 1 } path } when json.InnerException?.Message.Contains("surrogate", StringComparison.OrdinalIgnoreCase) == true =>
            (Field(path), $"The field '{Field(path)}' must be valid Unicode text: it has half of a surrogate pair (such as \\ud800) alone."),
        // The serializer names the record being read, not the field's type, so the type is looked up along the path.
        { Path: "$" } when WrongType().IsMatch(json.Message) =>
            ("body", $"The request body must be {(JsonKind(body) is "an object" ? "a JSON object" : JsonKind(body))}."),
        { Path: { Length: > 1 } path } when WrongType().IsMatch(json.Message) =>
            (Field(path), $"The field '{Field(path)}' must be {JsonKind(TypeAt(body, path))}."),
        { Path: { Length: > 1 } path } => (Field(path), $"The field '{Field(path)}' is not valid: {FirstSentence(json.Message)}"),
        _ => ("body", "The request body is not valid JSON."),
    };

    private static (string Field, string Detail) Required(string field) => (field, $"The field '{field}' is required.");

    private static (string Field, string Detail) Unknown(string field, Type? holder)
    {
        var members = holder?.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => $"'{JsonNamingPolicy.CamelCase.ConvertName(p.Name)}'").ToList() ?? [];
        return (field, $"The field '{field}' is not one this request takes" + (members.Count > 0 ? $": it takes {string.Join(", ", members)}." : "."));
    }

    private static (string Field, string Detail) Repeated(string field, string member) =>
        (field, member.Length == 0 || field == member || field.EndsWith($".{member}", StringComparison.Ordinal)
            ? $"The field '{field}' appears more than once; send it once."
            : $"The field '{field}' has the member '{member}' more than once; send it once.");

    // "$.assistant.name" → "$.assistant"; "$['a.b']" → "$".
    private static string Parent(string path) =>
        path[..Math.Max(0, path.EndsWith("']", StringComparison.Ordinal) ? path.LastIndexOf("['", StringComparison.Ordinal) : path.LastIndexOf('.'))];

    // "$.turns[0]" and "text" → "turns[0].text".
    private static string Field(string? path, string? member = null)
    {
        var parent = (path ?? "$").TrimStart('$').TrimStart('.');
        return member is null ? parent : parent.Length == 0 ? member : $"{parent}.{member}";
    }

    // The .NET type at a JSON path ("$.turns[0].text", "$.max_tokens") of the request body's type; null when it cannot
    // be followed. A member is found by its JSON name in camelCase or in snake_case (OpenAI's wire).
    private static Type? TypeAt(Type? type, string path)
    {
        foreach (Match step in PathStep().Matches(path))
        {
            if (type is null) return null;
            type = step.Groups["name"].Success
                ? type.GetProperty(step.Groups["name"].Value.Replace("_", ""), BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)?.PropertyType
                    ?? DictionaryValue(type)
                : ElementType(type);
        }
        return type;
    }

    // A dictionary's values are its members' type (metrics: names → numbers).
    private static Type? DictionaryValue(Type type) =>
        type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>))?.GetGenericArguments()[1];

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

    // What a JSON value must be for a .NET type, in a caller's words; a number's range with it, since a number too large
    // for its field is refused the same way as one of the wrong kind.
    private static string JsonKind(Type? type) => (type is null ? null : Nullable.GetUnderlyingType(type) ?? type) switch
    {
        null => "of another type (see the API reference at /docs)",
        var t when t == typeof(string) => "a string",
        var t when t == typeof(int) => WholeNumber(int.MinValue, int.MaxValue),
        var t when t == typeof(long) => WholeNumber(long.MinValue, long.MaxValue),
        var t when t == typeof(short) => WholeNumber(short.MinValue, short.MaxValue),
        var t when t == typeof(decimal) => "a number of at most 28 digits (such as 10 or 9.99)",
        var t when t == typeof(float) => "a number from -3.4E+38 to 3.4E+38",
        var t when t == typeof(double) => "a number",
        var t when t == typeof(bool) => "true or false",
        var t when t == typeof(Guid) => "an id (a GUID such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301)",
        var t when t == typeof(DateTimeOffset) || t == typeof(DateTime) => "a date and time (ISO 8601, e.g. 2026-11-24T10:00:00Z)",
        var t when t == typeof(DateOnly) => "a date (e.g. 2026-11-24)",
        var t when t.IsEnum => $"one of {string.Join(", ", Enum.GetNames(t).Select(n => $"'{JsonNamingPolicy.CamelCase.ConvertName(n)}'"))}",
        var t when DictionaryValue(t) is not null => "an object",
        var t when ElementType(t) == typeof(string) => "an array of strings",
        var t when ElementType(t) is not null => "an array",
        _ => "an object",
    };

    // In digits: 1e3 is a whole number to a person, not to the parser.
    private static string WholeNumber(long min, long max) => $"a whole number from {min} to {max}, in digits (no decimal point or exponent)";

    [GeneratedRegex(@"^The JSON value could not be converted to ")]
    private static partial Regex WrongType();

    [GeneratedRegex(@"maximum configured depth of (?<depth>\d+)")]
    private static partial Regex TooDeep();

    [GeneratedRegex(@"\.(?<name>[^.\[]+)|\[\d+\]")]
    private static partial Regex PathStep();

    [GeneratedRegex(@"was missing required properties,? including: '(?<name>[^']+)'")]
    private static partial Regex MissingMembers();

    [GeneratedRegex(@"^The JSON property '[^']*' could not be mapped to any \.NET member")]
    private static partial Regex UnknownMember();

    [GeneratedRegex(@"^Duplicate propert(y '(?<name>[^']*)'|ies) ")]
    private static partial Regex DuplicateMember();

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }

    private sealed class AnyAcceptProblemWriter(Microsoft.Extensions.Options.IOptions<ProblemDetailsOptions> options) : IProblemDetailsWriter
    {
        public bool CanWrite(ProblemDetailsContext context) => true;

        public ValueTask WriteAsync(ProblemDetailsContext context)
        {
            options.Value.CustomizeProblemDetails?.Invoke(context);
            var problem = context.ProblemDetails;
            return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(problem, problem.GetType(), (JsonSerializerOptions?)null, "application/problem+json"));
        }
    }

    private sealed partial class BadRequestExceptionHandler(IProblemDetailsService problems, ILogger<BadRequestExceptionHandler> logger)
        : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
        {
            if (exception is not BadHttpRequestException bad)
            {
                return false;
            }

            logger.LogDebug("Bad request: {Reason}", bad.Message);
            context.Response.StatusCode = bad.StatusCode;
            // The handler runs with the endpoint cleared; the feature keeps the one that failed, and with it the body's type.
            var endpoint = context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint();
            var (field, detail) = Describe(bad, endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType, endpoint?.Metadata.GetMetadata<MethodInfo>());
            var problem = new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = bad.StatusCode,
                    Title = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Request body too large" : ApiProblems.InvalidTitle,
                    Detail = detail,
                },
                Exception = exception,
            };
            // Named like a validation problem's errors, so clients find the field the same way.
            if (field is { Length: > 0 })
            {
                problem.ProblemDetails.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [detail] };
            }
            // The writer declines when the request accepts no JSON (an SSE request's Accept: text/event-stream);
            // a refusal still says why.
            if (!await problems.TryWriteAsync(problem))
            {
                await context.Response.WriteAsJsonAsync(problem.ProblemDetails, (JsonSerializerOptions?)null, "application/problem+json", cancellationToken);
            }
            return true;
        }

        // The field at fault (a JSON path, a parameter, "body" or "Content-Type") and why, in words a caller can act on.
        private static (string? Field, string Detail) Describe(BadHttpRequestException bad, Type? body, MethodInfo? handler) =>
            bad.InnerException is JsonException json ? ProblemResponses.Describe(json, body) : InOurWords(bad.Message, handler);

        // The framework's binding messages name .NET types and parameters ("Failed to bind parameter \"Guid id\"
        // from \"x\"."); a caller gets the field and what it must be instead: the range the handler declares on the
        // parameter ([Range(1, 90)] int? days), every list's limit and offset (PageRequest), else its type's.
        private static (string? Field, string Detail) InOurWords(string message, MethodInfo? handler)
        {
            if (BindFailed().Match(message) is { Success: true } failed)
            {
                var name = failed.Groups["name"].Value;
                var declared = handler?.GetParameters().FirstOrDefault(p => p.Name == name)?.GetCustomAttribute<System.ComponentModel.DataAnnotations.RangeAttribute>();
                var kind = (declared, name) switch
                {
                    ({ Minimum: int min, Maximum: int max }, _) => WholeNumber(min, max),
                    (_, "limit") => WholeNumber(1, PageRequest.MaxLimit),
                    (_, "offset") => WholeNumber(0, int.MaxValue),
                    _ => Kind(failed.Groups["type"].Value),
                };
                return (name, $"'{name}' must be {kind}; '{failed.Groups["value"].Value}' is not.");
            }
            if (Missing().Match(message) is { Success: true } missing)
            {
                return missing.Groups["source"].Value == "body"
                    ? ("body", "The request needs a JSON body.")
                    : (missing.Groups["name"].Value, $"'{missing.Groups["name"].Value}' is required ({missing.Groups["source"].Value}).");
            }
            if (message.StartsWith("Implicit body inferred", StringComparison.Ordinal))
            {
                return ("body", "The request needs a JSON body.");
            }
            if (UnreadableBody().IsMatch(message))
            {
                return ("body", "The request body is not valid JSON.");
            }
            return (null, message);
        }

        private static string Kind(string type) => (type.StartsWith("Nullable<", StringComparison.Ordinal) ? type[9..^1] : type).TrimEnd('?') switch
        {
            "Guid" => "an id (a GUID such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301)",
            "int" or "Int32" => WholeNumber(int.MinValue, int.MaxValue),
            "long" or "Int64" => WholeNumber(long.MinValue, long.MaxValue),
            "short" or "Int16" => WholeNumber(short.MinValue, short.MaxValue),
            "decimal" or "double" or "float" or "Decimal" or "Double" or "Single" => "a number",
            "bool" or "Boolean" => "true or false",
            "DateTimeOffset" or "DateTime" => "a date and time (ISO 8601, e.g. 2026-11-24T10:00:00Z)",
            "DateOnly" => "a date (e.g. 2026-11-24)",
            _ => "a valid value",
        };

        [GeneratedRegex("""^Failed to bind parameter "(?<type>[^ "]+) (?<name>[^"]+)" from "(?<value>.*)"\.$""")]
        private static partial Regex BindFailed();

        [GeneratedRegex("""^Required parameter "(?<type>[^ "]+) (?<name>[^"]+)" was not provided from (?<source>.+)\.$""")]
        private static partial Regex Missing();

        [GeneratedRegex("""^Failed to read parameter ".*" from the request body as JSON\.$""")]
        private static partial Regex UnreadableBody();
    }
}
