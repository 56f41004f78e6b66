using System.Diagnostics;
using System.Text.Json;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace ServiceDefaults.Tests;

// A problem's traceId is the trace's id, whatever the request's Accept: the framework's writer put the W3C traceparent
// there ("00-<trace>-<span>-01") and the writer for event-stream requests the bare id (the third trial saw both).
public sealed class ProblemTraceIdTests
{
    [Theory]
    [InlineData("application/json")]
    [InlineData("text/event-stream")]
    public async Task A_problems_trace_id_is_the_traces_id_whatever_the_accept(string accept)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.AddProblemResponses();
        await using var app = builder.Build();
        using var activity = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
        var context = new DefaultHttpContext { RequestServices = app.Services };
        context.Features.Set<IHttpActivityFeature>(new RequestActivity(activity));
        context.Request.Headers.Accept = accept;
        context.Response.Body = new MemoryStream();
        context.Response.StatusCode = StatusCodes.Status404NotFound;

        await app.Services.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = StatusCodes.Status404NotFound, Detail = "No such thing." },
        });

        context.Response.Body.Position = 0;
        var problem = await JsonDocument.ParseAsync(context.Response.Body, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(activity.TraceId.ToString(), problem.RootElement.GetProperty("traceId").GetString());
    }

    private sealed class RequestActivity(Activity activity) : IHttpActivityFeature
    {
        public Activity Activity { get; set; } = activity;
    }
}
