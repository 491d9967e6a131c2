using System.Numerics;
using FsCheck;
using FsCheck.Xunit;
using GrandPaymaster.Domain.Fees;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Domain.Tests.Fees;

public sealed class FeeEngineTests
{
    private static readonly ConversionRate ThreeThousandUsdt = new(FeeToken.Usdt, 3_000_000_000); // 1 ETH = 3,000 USDT
    private static readonly ConversionRate VcnRate = new(FeeToken.Vcn, BigInteger.Parse("300000000000000000000000")); // 1 ETH = 300,000 VCN

    [Fact]
    public void Max_fee_is_gas_times_price_with_buffer_and_surcharge_converted_and_rounded_up()
    {
        // 100,000 gas × 10 gwei = 0.001 ETH; × (1 + 20% + 30%) = 0.0015 ETH; × 3,000 = 4.5 USDT = 4,500,000 units.
        var quote = FeeEngine.Quote(100_000, new Wei(10_000_000_000), new Bps(2_000), new Bps(3_000), ThreeThousandUsdt);

        Assert.Equal(new TokenAmount(FeeToken.Usdt, 4_500_000), quote.MaxFee);
    }

    [Fact]
    public void A_fraction_of_a_base_unit_is_rounded_up_never_down()
    {
        // 21,000 gas × 1 wei × 1.5 × 3e9 / 1e18 = 9.45e-5 units → 1 unit.
        var quote = FeeEngine.Quote(21_000, new Wei(1), new Bps(2_000), new Bps(3_000), ThreeThousandUsdt);

        Assert.Equal(BigInteger.One, quote.MaxFee.Units);
    }

    [Fact]
    public void Eighteen_decimal_tokens_are_exact_to_the_base_unit()
    {
        // 21,000 × 1 gwei × 1.5 = 3.15e13 wei; × 300,000 VCN/ETH = 9.45e18 base units exactly.
        var quote = FeeEngine.Quote(21_000, new Wei(1_000_000_000), new Bps(2_000), new Bps(3_000), VcnRate);

        Assert.Equal(BigInteger.Parse("9450000000000000000"), quote.MaxFee.Units);
    }

    [Fact]
    public void Settlement_charges_actual_cost_with_surcharge_and_refunds_the_rest_of_the_hold()
    {
        var hold = new TokenAmount(FeeToken.Usdt, 4_500_000);

        // 60,000 gas × 8 gwei = 0.00048 ETH × 1.3 × 3,000 = 1.872 USDT.
        var settled = FeeEngine.Settle(hold, 60_000, new Wei(8_000_000_000), new Bps(3_000), ThreeThousandUsdt);

        Assert.Equal(1_872_000, settled.Fee.Units);
        Assert.Equal(4_500_000 - 1_872_000, settled.Refund.Units);
        Assert.Equal(BigInteger.Zero, settled.Shortfall.Units);
        Assert.Equal(new BigInteger(480_000_000_000_000), settled.ActualCost.Value);
        Assert.Equal(1_872_000 - 1_440_000, settled.SurchargeRevenue.Units);
    }

    [Fact]
    public void A_receipt_above_the_hold_charges_the_hold_and_records_the_shortfall()
    {
        var hold = new TokenAmount(FeeToken.Usdt, 1_000_000);

        var settled = FeeEngine.Settle(hold, 60_000, new Wei(8_000_000_000), new Bps(3_000), ThreeThousandUsdt);

        Assert.Equal(hold, settled.Fee);
        Assert.Equal(BigInteger.Zero, settled.Refund.Units);
        Assert.Equal(872_000, settled.Shortfall.Units);
    }

    [Property(MaxTest = 300)]
    public bool Fee_plus_refund_is_always_the_hold_and_the_fee_never_exceeds_it(PositiveInt gasLimit, PositiveInt gwei, NonNegativeInt usedPercent)
    {
        var quote = FeeEngine.Quote(gasLimit.Get, new Wei(gwei.Get * 1_000_000_000L), new Bps(2_000), new Bps(2_500), ThreeThousandUsdt);
        var used = gasLimit.Get * (BigInteger)(usedPercent.Get % 150) / 100;
        var settled = FeeEngine.Settle(quote.MaxFee, used, new Wei(gwei.Get * 1_000_000_000L), new Bps(2_500), ThreeThousandUsdt);

        return settled.Fee.Units + settled.Refund.Units == quote.MaxFee.Units
               && settled.Fee.Units <= quote.MaxFee.Units
               && settled.Refund.Units >= 0;
    }
}
