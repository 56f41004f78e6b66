using System.Net;
using System.Text.Json;
using Xunit;

namespace Gateway.Testing;

// What the service test projects assert about a response, said once.
public static class Responses
{
    // Answers the body when it is JSON (default otherwise: a redirect, a page, an empty body).
    public static async Task<JsonElement> ShouldBe(this HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == status, $"Expected {(int)status} but got {(int)response.StatusCode}: {body}");
        var json = response.Content.Headers.ContentType?.MediaType is not { } type || type.EndsWith("json", StringComparison.OrdinalIgnoreCase);
        return body.Length == 0 || !json ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    // A problem (RFC 9457) with this status and a detail that says what went wrong, naming the field at fault
    // when one is given; returns the problem.
    public static async Task<JsonElement> ShouldBeProblem(this HttpResponseMessage response, HttpStatusCode status, string? field = null)
    {
        var problem = await response.ShouldBe(status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        ShouldHaveOneShapeOfBadRequest(problem, status);
        Assert.False(string.IsNullOrWhiteSpace(problem.TryGetProperty("detail", out var detail) ? detail.GetString() : null), $"The problem has no detail: {problem}");
        if (field is not null)
        {
            Assert.True(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _), $"The problem does not name '{field}': {problem}");
        }
        return problem;
    }

    // Every service answers every 400 alike (ApiProblems.Invalid): one title, the reason as the detail, the fields in errors.
    private static void ShouldHaveOneShapeOfBadRequest(JsonElement problem, HttpStatusCode status)
    {
        if (status == HttpStatusCode.BadRequest)
        {
            Assert.True(problem.TryGetProperty("title", out var title) && title.GetString() == "Invalid request", $"A 400 titled otherwise: {problem}");
            Assert.True(problem.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object, $"A 400 naming no field: {problem}");
        }
    }

    // A 4xx problem that names the field at fault; returns the reason given for it.
    public static async Task<string> ShouldBeProblemAbout(this HttpResponseMessage response, HttpStatusCode status, string field)
    {
        var problem = await response.ShouldBe(status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        ShouldHaveOneShapeOfBadRequest(problem, status);
        var reasons = problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out var named) ? named : default;
        Assert.True(reasons.ValueKind == JsonValueKind.Array, $"The problem does not name '{field}': {problem}");
        var reason = reasons[0].GetString()!;
        Assert.False(string.IsNullOrWhiteSpace(reason));
        return reason;
    }
}

public static class Eventually
{
    // Polls until the condition holds, at most the given time (15 s unless said): events travel through the
    // outbox and the broker. Answers the last value either way, for the test to assert on.
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var value = await probe();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
