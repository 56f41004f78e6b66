using System.Diagnostics.Metrics;

namespace Gateway.Billing.Ledger;

// Credits moved by the ledger, for the ops dashboard. Counted once per transfer the ledger created,
// after its transaction committed; a replay answered with an existing transfer adds nothing.
public sealed class LedgerMetrics
{
    public const string MeterName = "Gateway.Billing";
    public const string CreditsReserved = "gateway.billing.credits.reserved";
    public const string CreditsCaptured = "gateway.billing.credits.captured";
    public const string ReservationsAbandoned = "gateway.billing.reservations.abandoned";

    private readonly Counter<long> _reserved;
    private readonly Counter<long> _captured;
    private readonly Counter<long> _abandoned;

    public LedgerMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _reserved = meter.CreateCounter<long>(CreditsReserved, "{credit}", "Credits held by reservations.");
        _captured = meter.CreateCounter<long>(CreditsCaptured, "{credit}", "Credits charged by captures of reservations.");
        _abandoned = meter.CreateCounter<long>(ReservationsAbandoned, "{request}", "Reservation requests not applied because they arrived after their requester stopped waiting.");
    }

    public void Abandoned() => _abandoned.Add(1);

    public TransferResult Reserved(TransferResult result) => Count(_reserved, result);

    public TransferResult Captured(TransferResult result) => Count(_captured, result);

    private static TransferResult Count(Counter<long> counter, TransferResult result)
    {
        if (result.Outcome == TransferOutcome.Created)
        {
            counter.Add(result.Amount);
        }
        return result;
    }
}
