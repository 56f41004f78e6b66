using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Billing.Tests;

// Stands in for api.stripe.com on 127.0.0.1: answers the Checkout Session call as Stripe does, remembers
// each session, and builds webhooks for them signed the way Stripe signs (t=…,v1=HMAC-SHA256).
public sealed class FakeStripe : IAsyncDisposable
{
    public const string SecretKey = "sk_test_fake_0123456789";
    public const string WebhookSecret = "whsec_test_fake_0123456789";

    private WebApplication? _app;

    public ConcurrentDictionary<string, CheckoutSession> Sessions { get; } = new();
    public ConcurrentQueue<string?> Authorizations { get; } = new();
    public string Address { get; private set; } = "";

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/v1/checkout/sessions", async (HttpRequest request) =>
        {
            Authorizations.Enqueue(request.Headers.Authorization);
            var form = await request.ReadFormAsync();
            var session = new CheckoutSession(
                $"cs_test_{Guid.NewGuid():N}",
                long.Parse(form["line_items[0][price_data][unit_amount]"]!),
                form["metadata[userId]"]!,
                form["metadata[credits]"]!,
                form["success_url"]!);
            Sessions[session.Id] = session;
            return Results.Json(new Dictionary<string, object?>
            {
                ["id"] = session.Id,
                ["object"] = "checkout.session",
                ["mode"] = "payment",
                ["payment_status"] = "unpaid",
                ["status"] = "open",
                ["amount_total"] = session.AmountCents,
                ["currency"] = "usd",
                ["url"] = $"https://checkout.stripe.test/c/pay/{session.Id}",
                ["metadata"] = new Dictionary<string, string> { ["userId"] = session.UserId, ["credits"] = session.Credits },
            });
        });
        await _app.StartAsync();
        Address = _app.Urls.First();
    }

    // The body of a Stripe event about a checkout session.
    public static string Event(CheckoutSession session, string type = "checkout.session.completed", string paymentStatus = "paid") =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["id"] = $"evt_{Guid.NewGuid():N}",
            ["object"] = "event",
            ["api_version"] = "2025-01-27.acacia",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["livemode"] = false,
            ["type"] = type,
            ["data"] = new Dictionary<string, object?>
            {
                ["object"] = new Dictionary<string, object?>
                {
                    ["id"] = session.Id,
                    ["object"] = "checkout.session",
                    ["mode"] = "payment",
                    ["payment_status"] = paymentStatus,
                    ["status"] = "complete",
                    ["amount_total"] = session.AmountCents,
                    ["currency"] = "usd",
                    ["client_reference_id"] = session.UserId,
                    ["metadata"] = new Dictionary<string, string> { ["userId"] = session.UserId, ["credits"] = session.Credits },
                },
            },
        });

    public static string Sign(string payload, string secret = WebhookSecret, DateTimeOffset? at = null)
    {
        var timestamp = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{payload}"));
        return $"t={timestamp},v1={Convert.ToHexStringLower(mac)}";
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

public sealed record CheckoutSession(string Id, long AmountCents, string UserId, string Credits, string SuccessUrl);
