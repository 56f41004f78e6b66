using System.Net;

namespace WebConsole.Tests;

// The edge serves the console's document for the console's pages only; the API's paths stay the API's.
[Collection(nameof(ConsoleSystem))]
public sealed class ServingTests(ConsoleSystem console)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/")]
    [InlineData("/keys")]
    [InlineData("/accept-invite")]
    public async Task A_console_page_is_its_document_never_kept_stale(string path)
    {
        using var client = console.System.CreateEdgeClient();

        using var response = await client.GetAsync(path, Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-cache", response.Headers.CacheControl?.ToString());
        Assert.Contains("<div id=\"app\">", await response.Content.ReadAsStringAsync(Cancel));
    }

    [Theory]
    [InlineData("/api/nothing-here")]
    [InlineData("/v1/nothing-here")]
    [InlineData("/health/nothing-here")]
    [InlineData("/internal/nothing-here")]
    [InlineData("/main-NOTBUILT.js")]
    public async Task An_unknown_api_path_or_file_is_a_404_not_the_console(string path)
    {
        using var client = console.System.CreateEdgeClient();

        using var response = await client.GetAsync(path, Cancel);

        Assert.NotEqual("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Unauthorized, $"{path}: {response.StatusCode}");
    }

    // Pages are only read: a POST to a path no route serves (here the internal key lookup, which the edge does not
    // route) is a 404, never the page with 200.
    [Theory]
    [InlineData("/internal/api-keys/resolve")]
    [InlineData("/keys")]
    public async Task Another_method_on_a_page_path_is_a_404_not_the_console(string path)
    {
        using var client = console.System.CreateEdgeClient();

        using var response = await client.PostAsync(path, new StringContent("{}", System.Text.Encoding.UTF8, "application/json"), Cancel);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.NotEqual("text/html", response.Content.Headers.ContentType?.MediaType);
    }
}
