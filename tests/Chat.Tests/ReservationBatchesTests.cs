using Gateway.Chat.Metering;
using Gateway.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests;

// ReservationBatches (services/Chat/Metering): concurrent requests' reservations share messages to Billing, and
// each is answered as if it had been asked alone.
[Collection(nameof(ChatSystem))]
public sealed class ReservationBatchesTests(ChatSystem chat)
{
    private static CancellationToken Cancel => ChatSystem.Cancel;

    [Fact]
    public async Task Many_callers_reservations_at_once_share_messages_and_each_is_made_or_refused_as_if_asked_alone()
    {
        var users = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => chat.UserAsync()));
        var batches = chat.System[GatewayService.Chat].Provider.GetRequiredService<ReservationBatches>();
        // The first caller asks four times for 600 of their 1,000 credits: one is made, three refused; the others fit.
        var asked = users.SelectMany((user, i) => Enumerable.Range(0, 4)
                .Select(_ => new ReserveCredits(Guid.CreateVersion7(), user.UserId, i == 0 ? 600 : 50, "Chat request", TimeSpan.FromMinutes(1))))
            .ToList();

        var answers = await Task.WhenAll(asked.Select(hold => batches.ReserveAsync([hold], Cancel)));

        Assert.Contains(answers, answer => answer.Reserved.Count + answer.Insufficient.Count > 1);
        var reserved = answers.SelectMany(a => a.Reserved).DistinctBy(r => r.ReservationId).ToDictionary(r => r.ReservationId);
        var refused = answers.SelectMany(a => a.Insufficient).DistinctBy(r => r.ReservationId).ToDictionary(r => r.ReservationId);
        for (var i = 0; i < asked.Count; i++)
        {
            var id = asked[i].ReservationId;
            Assert.True(answers[i].Reserved.Any(r => r.ReservationId == id) || answers[i].Insufficient.Any(r => r.ReservationId == id), $"hold {i} got no answer");
        }
        Assert.Equal(asked.Count, reserved.Count + refused.Count);
        Assert.Equal(1, reserved.Values.Count(r => r.UserId == users[0].UserId));
        Assert.All(refused.Values, r => Assert.Equal((users[0].UserId, 600L, 400L), (r.UserId, r.Required, r.Available)));
        Assert.Equal(new Wallet(ChatSystem.SignUpGrant, 600, ChatSystem.SignUpGrant - 600), await ChatSystem.BalanceAsync(users[0]));
        foreach (var user in users.Skip(1))
        {
            Assert.Equal(4, reserved.Values.Count(r => r.UserId == user.UserId && r.Amount == 50));
            Assert.Equal(new Wallet(ChatSystem.SignUpGrant, 200, ChatSystem.SignUpGrant - 200), await ChatSystem.BalanceAsync(user));
        }
    }
}
