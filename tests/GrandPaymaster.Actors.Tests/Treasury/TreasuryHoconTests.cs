using System.Numerics;
using GrandPaymaster.Actors.Treasury;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Treasury;

namespace GrandPaymaster.Actors.Tests.Treasury;

/// <summary><c>hocon/treasury.hocon</c> with the operator's overlay: per chain thresholds, exact amounts, and refusal of bad settings at start.</summary>
public sealed class TreasuryHoconTests
{
    [Fact]
    public void The_defaults_come_from_the_file_and_a_chain_overrides_only_what_it_names()
    {
        var settings = TreasuryHocon.Load("""
            gpm.treasury.chains."31338" { min = "5 ether", warning = "7.5 ether" }
            gpm.treasury.retry.base = 1s
            """);

        Assert.Equal(new Wei(10 * Wei.PerCoin), settings.Thresholds.Min);
        Assert.Equal(new Wei(5 * Wei.PerCoin), settings.ThresholdsOf(31338).Min);
        Assert.Equal(new Wei(75 * Wei.PerCoin / 10), settings.ThresholdsOf(31338).Warning);
        Assert.Equal(settings.Thresholds.Target, settings.ThresholdsOf(31338).Target);
        Assert.Same(settings.Thresholds, settings.ThresholdsOf(31337));
        Assert.Equal((TimeSpan.FromSeconds(1), 2.0, TimeSpan.FromMinutes(5), 0.2), (settings.Retry.Base, settings.Retry.Factor, settings.Retry.Cap, settings.Retry.Jitter));
        Assert.Equal(3, settings.PageAfterFailures);
    }

    [Theory]
    [InlineData("1000000000000000000000000000001", "1000000000000000000000000000001")]
    [InlineData("2.5 ether", "2500000000000000000")]
    [InlineData("30 gwei", "30000000000")]
    public void Amounts_are_exact(string text, string wei) => Assert.Equal(BigInteger.Parse(wei), TreasuryHocon.ParseWei(text, "x"));

    [Theory]
    [InlineData("gpm.treasury.thresholds.min = \"300 ether\"")] // above warning
    [InlineData("gpm.treasury.thresholds.min = \"1.5 wei\"")]
    [InlineData("gpm.treasury.retry.jitter = 2")]
    [InlineData("gpm.treasury.page-after-failures = 0")]
    [InlineData("gpm.treasury.chains.abc.min = \"1 ether\"")]
    public void Bad_settings_stop_the_node_at_start(string overlay) =>
        Assert.Throws<InvalidOperationException>(() => TreasuryHocon.Load(overlay));
}
