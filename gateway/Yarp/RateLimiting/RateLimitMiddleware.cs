namespace Gateway.Edge.RateLimiting;

public static class RateLimitMiddleware
{
    // Runs inside the proxy pipeline, where the matched route (and so its group) is known.
    public static IReverseProxyApplicationBuilder UseRateLimits(this IReverseProxyApplicationBuilder proxy)
    {
        // Not async: an allowed request goes on without a state machine of its own (bench/Edge.Bench).
        proxy.Use((context, next) =>
        {
            var limiter = context.RequestServices.GetRequiredService<CallerRateLimiter>();
            var decision = limiter.Count(CallerRateLimiter.GroupOf(context), CallerRateLimiter.CallerOf(context));

            var headers = context.Response.Headers;
            headers["RateLimit-Limit"] = decision.Limit.ToString();
            headers["RateLimit-Remaining"] = decision.Remaining.ToString();
            headers["RateLimit-Reset"] = decision.ResetSeconds.ToString();
            return decision.Allowed ? next() : RefuseAsync(context, decision);
        });
        return proxy;
    }

    private static Task RefuseAsync(HttpContext context, RateDecision decision)
    {
        context.Response.Headers.RetryAfter = decision.ResetSeconds.ToString();
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"Rate limit of {decision.Limit} requests reached; try again in {decision.ResetSeconds} s.",
            },
        }).AsTask();
    }
}
