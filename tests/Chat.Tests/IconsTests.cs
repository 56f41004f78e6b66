using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Chat.Tests;

// Generations at a flat price: the model's SVG is checked and cleaned before it is stored and charged.
[Collection(nameof(ChatSystem))]
public sealed class IconsTests(ChatSystem chat)
{
    private static CancellationToken Cancel => ChatSystem.Cancel;

    [Fact]
    public async Task An_icon_is_stored_without_its_scripts_and_costs_the_flat_price()
    {
        var user = await chat.UserAsync();

        using var response = await user.Client.PostAsJsonAsync("/api/icons", new { prompt = "a red dot [mock:svg-script]" }, Cancel);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var icon = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        var svg = icon.GetProperty("svg").GetString()!;
        Assert.StartsWith("<svg", svg);
        Assert.Contains("<circle", svg);
        Assert.DoesNotContain("script", svg, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("onload", svg, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("onclick", svg, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("javascript", svg, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(999, (await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Balance < 1000 && b.Held == 0)).Balance);
        // The credit history says what was paid for (it said "Usage: <model>", as for a chat).
        Assert.StartsWith("Usage: icon (", Assert.Single(await ChatSystem.UsageEntriesAsync(user)).GetProperty("reason").GetString());

        var list = await user.Client.GetFromJsonAsync<JsonElement>("/api/icons?limit=10&offset=0", Cancel);
        Assert.Equal(1, list.GetProperty("total").GetInt32());
        Assert.Equal(icon.GetProperty("id").GetGuid(), list.GetProperty("data")[0].GetProperty("id").GetGuid());
        var stranger = await chat.UserAsync();
        Assert.Equal(0, (await stranger.Client.GetFromJsonAsync<JsonElement>("/api/icons", Cancel)).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task An_answer_that_is_not_svg_is_refused_and_not_charged()
    {
        var user = await chat.UserAsync();

        using var response = await user.Client.PostAsJsonAsync("/api/icons", new { prompt = "a cat [mock:not-svg]" }, Cancel);
        using var empty = await user.Client.PostAsJsonAsync("/api/icons", new { prompt = "" }, Cancel);
        using var paging = await user.Client.GetAsync("/api/icons?limit=1000", Cancel);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("not answer with an SVG", (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, paging.StatusCode);
        Assert.Equal(new Wallet(1000, 0, 1000), await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0));
    }

    [Theory]
    [InlineData("[mock:error=500]", "The model provider failed: 500")]
    [InlineData("[mock:fail-after=3]", "The model provider")]
    public async Task An_icon_whose_model_fails_before_or_while_drawing_is_refused_and_not_charged(string directive, string detail)
    {
        var user = await chat.UserAsync();

        using var response = await user.Client.PostAsJsonAsync("/api/icons", new { prompt = $"a broken dot {directive}" }, Cancel);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString();
        Assert.Contains(detail, problem);
        Assert.EndsWith("Nothing was charged.", problem);
        Assert.Equal(new Wallet(1000, 0, 1000), await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0));
        Assert.Equal(0, (await user.Client.GetFromJsonAsync<JsonElement>("/api/icons", Cancel)).GetProperty("total").GetInt32());
    }
}
