using Gateway.Billing.Portal;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Billing.Infrastructure.EntityConfigurations;

public sealed class OrganizationCustomerConfiguration : IEntityTypeConfiguration<OrganizationCustomer>
{
    public void Configure(EntityTypeBuilder<OrganizationCustomer> customer)
    {
        customer.ToTable("organization_customers");
        customer.HasKey(c => c.OrganizationId);
        customer.Property(c => c.StripeCustomerId).HasMaxLength(255);
        customer.HasIndex(c => c.StripeCustomerId).IsUnique();
    }
}
