using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.ServiceDefaults;

// Every error leaves a service as RFC 7807 problem details; never a stack trace.
public static class Problems
{
    public static IHostApplicationBuilder AddProblemResponses(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            context.ProblemDetails.Type ??= ApiProblems.TypeFor(context.ProblemDetails.Status);
            var activity = context.HttpContext.Features.Get<IHttpActivityFeature>()?.Activity;
            context.ProblemDetails.Extensions.TryAdd("traceId", activity?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier);
        });
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();

        // Malformed bodies throw instead of answering an empty 400, so the handler below can name the field.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return builder;
    }

    private sealed class BadRequestExceptionHandler(IProblemDetailsService problems, ILogger<BadRequestExceptionHandler> logger)
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
            var detail = Describe(bad);
            var problem = new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = bad.StatusCode,
                    Title = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Request body too large" : "Invalid request",
                    Detail = detail,
                },
                Exception = exception,
            };
            // Named like a validation problem's errors, so clients find the field the same way.
            if (bad.InnerException is JsonException { Path: { Length: > 1 } path })
            {
                problem.ProblemDetails.Extensions["errors"] = new Dictionary<string, string[]> { [path.TrimStart('$', '.')] = [detail] };
            }
            // The writer declines when the request accepts no JSON (an SSE request's Accept: text/event-stream);
            // a refusal still says why.
            if (!await problems.TryWriteAsync(problem))
            {
                await context.Response.WriteAsJsonAsync(problem.ProblemDetails, (JsonSerializerOptions?)null, "application/problem+json", cancellationToken);
            }
            return true;
        }

        private static string Describe(BadHttpRequestException bad) => bad.InnerException switch
        {
            JsonException { Path: { Length: > 0 } path } json =>
                $"The field '{path.TrimStart('$', '.')}' is not valid: {FirstSentence(json.Message)}",
            JsonException => "The request body is not valid JSON.",
            _ => bad.Message,
        };

        private static string FirstSentence(string message)
        {
            var end = message.IndexOf(". ", StringComparison.Ordinal);
            return end < 0 ? message : message[..(end + 1)];
        }
    }
}
