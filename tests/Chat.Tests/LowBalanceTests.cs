using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Chat.Tests;

// A wallet too small for one request's worst case (prompt + the model's whole output limit) still serves as many
// requests at once as it can pay for, and a lone request as long an answer as it can pay for; never more.
[Collection(nameof(ChatSystem))]
public sealed class LowBalanceTests(ChatSystem chat)
{
    private static CancellationToken Cancel => ChatSystem.Cancel;

    [Fact]
    public async Task A_wallet_that_can_pay_for_N_short_answers_serves_about_N_of_them_at_once_and_never_overdraws()
    {
        var user = await chat.UserAsync(); // 1,000 credits
        const int Requests = 120;

        // Each answer is 20 tokens, a few tokens of prompt: about 30 credits, so 1,000 pays for about 33 of them.
        var answers = await Task.WhenAll(Enumerable.Range(0, Requests).Select(async i =>
        {
            using var response = await user.Client.SendAsync(
                ChatSystem.ChatRequest(new { message = $"Short answer {i} [mock:tokens=20] [mock:token-ms=25]" }, json: true), Cancel);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            return response.StatusCode == HttpStatusCode.OK
                ? (response.StatusCode, Credits: body.GetProperty("usage").GetProperty("credits").GetInt64(), Prompt: body.GetProperty("usage").GetProperty("inputTokens").GetInt64(), Refusal: "")
                : (response.StatusCode, Credits: 0L, Prompt: 0L, Refusal: body.GetProperty("detail").GetString() ?? "");
        }));

        var served = answers.Where(a => a.StatusCode == HttpStatusCode.OK).ToList();
        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.PaymentRequired }));
        var perAnswer = served.Average(a => a.Credits);
        var affordable = (int)(1000 / perAnswer);
        Assert.True(served.Count >= affordable / 2, $"{served.Count} of {Requests} served; the wallet pays for {affordable} answers of {perAnswer:0.#} credits");
        var wallet = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0);
        Assert.Equal(1000 - served.Sum(a => a.Credits), wallet.Balance);
        Assert.True(wallet.Balance >= 0);
        // Each refusal says what the least answer needs (the prompt and 16 tokens), as a lone request is told, whether it
        // was refused at its first ask or, others having spent meanwhile, at its second (the third trial read 32 there).
        var (fewest, most) = (served.Min(a => a.Prompt), served.Max(a => a.Prompt));
        Assert.All(answers.Where(a => a.StatusCode == HttpStatusCode.PaymentRequired), a =>
            Assert.InRange(long.Parse(System.Text.RegularExpressions.Regex.Match(a.Refusal, @"^Required: (\d+),").Groups[1].Value) - 16, fewest, most));
    }

    [Fact]
    public async Task A_lone_answer_grows_its_hold_as_it_goes_and_is_charged_exactly_once_for_all_of_it()
    {
        var user = await chat.UserAsync(); // 1,000 credits: less than prompt + 1,024

        using var response = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "Tell me more [mock:tokens=300]" }, json: true), Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        Assert.Equal("stop", answer.GetProperty("finishReason").GetString());
        var usage = answer.GetProperty("usage");
        Assert.Equal(300, usage.GetProperty("outputTokens").GetInt64());
        var credits = usage.GetProperty("credits").GetInt64();
        Assert.Equal(new Wallet(1000 - credits, 0, 1000 - credits),
            await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance < 1000));
        var charged = await ChatSystem.UsageEntriesAsync(user);
        Assert.Equal(credits, charged.Sum(e => -e.GetProperty("amount").GetInt64()));
    }
}
