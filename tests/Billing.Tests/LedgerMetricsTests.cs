using System.Diagnostics.Metrics;
using Gateway.Billing.Ledger;
using Gateway.Contracts;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Billing.Tests;

// The counters the ops dashboard charts: credits of each reservation and capture, once, replays not again.
public sealed class LedgerMetricsTests(BillingSystem billing) : IClassFixture<BillingSystem>
{
    private static CancellationToken Cancel => BillingSystem.Cancel;

    private MetricCollector<long> Collect(string instrument) =>
        new(billing.Billing.GetRequiredService<IMeterFactory>(), LedgerMetrics.MeterName, instrument);

    [Fact]
    public async Task A_reservation_counts_its_credits_once_however_often_it_is_replayed()
    {
        using var reserved = Collect(LedgerMetrics.CreditsReserved);
        var userId = await billing.NewWalletAsync(100);
        var reservationId = Guid.NewGuid();

        await billing.ReserveAsync(userId, 30, reservationId);
        await billing.ReserveAsync(userId, 30, reservationId);
        var refused = await billing.ReserveAsync(userId, 500);

        Assert.True(refused.Is(out Response<CreditsInsufficient>? _));
        Assert.Equal([30L], reserved.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal("{credit}", reserved.Instrument!.Unit);
    }

    [Fact]
    public async Task A_capture_counts_the_credits_charged_once_however_often_it_is_replayed()
    {
        using var captured = Collect(LedgerMetrics.CreditsCaptured);
        var userId = await billing.NewWalletAsync(100);
        var holdId = Guid.NewGuid();
        var captureId = Guid.NewGuid();
        await billing.Ledger.ReserveAsync(holdId, userId, 40, DateTimeOffset.UtcNow.AddMinutes(5), "Chat", cancellationToken: Cancel);

        await billing.Ledger.CaptureAsync(captureId, holdId, 25, "Usage", new Usage("gpt-test", 10, 15), Cancel);
        await billing.Ledger.CaptureAsync(captureId, holdId, 25, "Usage", new Usage("gpt-test", 10, 15), Cancel);

        Assert.Equal([25L], captured.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal(new WalletBalance(75, 0), await billing.BalanceAsync(userId));
    }
}
