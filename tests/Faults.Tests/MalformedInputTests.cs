namespace Gateway.Faults.Tests;

/// <summary>
/// Abuse rather than faults: every operation of the edge's merged OpenAPI document asked with bad input (parameters that
/// are a NUL, a traversal, 3,000 characters, the smallest long or non-ASCII; a non-ASCII Idempotency-Key; bodies cut
/// off, of the wrong shape, nested 5,000 deep, or with one field of the wrong type). Issue 17's goal: no 5xx, no stack
/// trace and no internal address in any answer.
/// </summary>
public sealed class MalformedInputTests(RunningSystem running)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Malformed_input_on_every_route_of_the_API_reference_gets_no_5xx_no_stack_trace_and_no_internal_address()
    {
        var user = (await running.System.SignUpAsync("sweep-", 1, 10_000, Ct))[0];

        var sweep = await MalformedInput.SweepAsync(running.System, user, running.System.Admin, Ct);
        TestContext.Current.TestOutputHelper?.WriteLine(sweep.Format());

        Assert.Multiple(
            () => Assert.True(sweep.Operations >= 40 && sweep.Probes.Count >= 500, $"Only {sweep.Operations} operations and {sweep.Probes.Count} requests: the document was not read whole."),
            () => Assert.True(sweep.ServerErrors.Count == 0, "Answered with a 5xx or not at all:\n" + sweep.Format()),
            () => Assert.True(sweep.Leaks.Count == 0, "A stack trace or an internal address in an answer:\n" + sweep.Format()));
    }
}
