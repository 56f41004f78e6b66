using Gateway.Contracts;
using MassTransit;
using Npgsql;

namespace Gateway.Billing.Consumers;

// Notes that a holder (a running Chat) still uses its holds; HoldSweeper releases those of a holder gone silent.
// Billing's clock, not the message's, so holders' clocks never shorten or stretch a lease.
public sealed class HoldsRenewedConsumer(NpgsqlDataSource database) : IConsumer<HoldsRenewed>
{
    public async Task Consume(ConsumeContext<HoldsRenewed> context)
    {
        await using var command = database.CreateCommand("""
            INSERT INTO holder_leases (holder, renewed_at) VALUES ($1, now())
            ON CONFLICT (holder) DO UPDATE SET renewed_at = GREATEST(holder_leases.renewed_at, EXCLUDED.renewed_at)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = context.Message.Holder });
        await command.ExecuteNonQueryAsync(context.CancellationToken);
    }
}
