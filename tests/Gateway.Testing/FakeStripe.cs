using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Testing;

// Stands in for api.stripe.com on 127.0.0.1 (Billing.Tests, Console.Tests): answers the Checkout Session, Customer and Billing Portal Session calls
// as Stripe does (form-encoded requests, JSON objects back, an Idempotency-Key answered with the first result),
// remembers what it made, and builds webhooks for checkout sessions signed the way Stripe signs (t=…,v1=HMAC-SHA256).
public sealed class FakeStripe : IAsyncDisposable
{
    public const string SecretKey = "sk_test_fake_0123456789";
    public const string WebhookSecret = "whsec_test_fake_0123456789";

    private WebApplication? _app;

    public ConcurrentDictionary<string, CheckoutSession> Sessions { get; } = new();
    public ConcurrentQueue<string?> Authorizations { get; } = new();
    public ConcurrentDictionary<string, StripeCustomer> Customers { get; } = new();
    public ConcurrentDictionary<string, PortalSession> PortalSessions { get; } = new();
    private readonly ConcurrentDictionary<string, Lazy<StripeCustomer>> _customersByIdempotencyKey = new();

    // While set, Stripe refuses portal sessions as it does when no portal configuration has been saved.
    public bool RefusePortalSessions { get; set; }
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
        _app.MapPost("/v1/customers", async (HttpRequest request) =>
        {
            Authorizations.Enqueue(request.Headers.Authorization);
            var form = await request.ReadFormAsync();
            StripeCustomer Create() => new(
                $"cus_test_{Guid.NewGuid():N}",
                form["email"].ToString() is { Length: > 0 } email ? email : null,
                form["metadata[organizationId]"].ToString());
            var key = request.Headers["Idempotency-Key"].ToString();
            var customer = key.Length > 0 ? _customersByIdempotencyKey.GetOrAdd(key, _ => new(Create)).Value : Create();
            Customers[customer.Id] = customer;
            return Results.Json(new Dictionary<string, object?>
            {
                ["id"] = customer.Id,
                ["object"] = "customer",
                ["email"] = customer.Email,
                ["livemode"] = false,
                ["metadata"] = new Dictionary<string, string> { ["organizationId"] = customer.OrganizationId },
            });
        });
        _app.MapPost("/v1/billing_portal/sessions", async (HttpRequest request) =>
        {
            Authorizations.Enqueue(request.Headers.Authorization);
            var form = await request.ReadFormAsync();
            var customerId = form["customer"].ToString();
            if (RefusePortalSessions)
            {
                return Error(400, "invalid_request_error", null, "No configuration provided and your test mode default configuration has not been created.");
            }
            if (!Customers.ContainsKey(customerId))
            {
                return Error(400, "invalid_request_error", "resource_missing", $"No such customer: '{customerId}'");
            }
            var session = new PortalSession($"bps_test_{Guid.NewGuid():N}", customerId, form["return_url"]!);
            PortalSessions[session.Id] = session;
            return Results.Json(new Dictionary<string, object?>
            {
                ["id"] = session.Id,
                ["object"] = "billing_portal.session",
                ["customer"] = customerId,
                ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                ["livemode"] = false,
                ["return_url"] = session.ReturnUrl,
                ["url"] = session.Url,
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

    private static IResult Error(int status, string type, string? code, string message) =>
        Results.Json(new { error = new { type, code, message } }, statusCode: status);

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

public sealed record StripeCustomer(string Id, string? Email, string OrganizationId);

public sealed record PortalSession(string Id, string CustomerId, string ReturnUrl)
{
    public string Url => $"https://billing.stripe.test/p/session/{Id}";
}
