using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;

namespace GrandPaymaster.Domain.Tests.Dapps;

/// <summary>S8's rules over sliding windows, with time passed in.</summary>
public sealed class FraudWatchTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly Address Alice = Address.Parse("0x" + new string('a', 40));

    private static Address Wallet(int i) => Address.Parse("0x" + i.ToString("x40"));

    [Fact]
    public void Hundreds_of_quotes_never_executed_fire_the_unexecuted_quotes_rule()
    {
        var watch = new FraudWatch(new FraudRules { UnexecutedMinQuotes = 100, UnexecutedMaxRatio = 20 });
        FraudFinding? finding = null;
        for (var i = 0; i < 100 && finding is null; i++) finding = watch.Quoted(Alice, 1, T0.AddSeconds(i));

        Assert.Equal("unexecuted-quotes", finding?.Rule);
        Assert.Contains("100 quotes and 0 executions", finding!.Evidence);
    }

    [Fact]
    public void Quotes_that_are_executed_do_not_fire_it()
    {
        var watch = new FraudWatch(new FraudRules { UnexecutedMinQuotes = 100, UnexecutedMaxRatio = 20 });
        for (var i = 0; i < 300; i++)
        {
            Assert.Null(watch.Quoted(Alice, 1, T0.AddSeconds(i)));
            if (i % 10 == 0) watch.Executed(T0.AddSeconds(i));
        }
    }

    [Fact]
    public void A_burst_of_never_seen_senders_fires_the_fresh_senders_rule()
    {
        var watch = new FraudWatch(new FraudRules { FreshSendersMax = 50 });
        for (var i = 0; i < 50; i++) Assert.Null(watch.Quoted(Wallet(i), 1, T0));

        Assert.Equal("fresh-senders", watch.Quoted(Wallet(50), 1, T0)?.Rule);
    }

    [Fact]
    public void Senders_seen_before_are_not_fresh_when_they_come_back()
    {
        var watch = new FraudWatch(new FraudRules { FreshSendersMax = 50 });
        for (var i = 0; i < 50; i++) Assert.Null(watch.Quoted(Wallet(i), 1, T0));
        for (var i = 0; i < 50; i++) Assert.Null(watch.Quoted(Wallet(i), 1, T0.AddMinutes(2)));
        for (var i = 0; i < 50; i++) Assert.Null(watch.Quoted(Wallet(i), 1, T0.AddMinutes(2)));
    }

    [Fact]
    public void A_burst_of_high_value_quotes_fires_and_old_ones_leave_the_window()
    {
        var watch = new FraudWatch(new FraudRules { HighValueWei = 1_000, HighValueMax = 5 });
        for (var i = 0; i < 5; i++) Assert.Null(watch.Quoted(Alice, 1_000, T0));
        Assert.Null(watch.Quoted(Alice, 1_000, T0.AddMinutes(2)));

        FraudFinding? finding = null;
        for (var i = 0; i < 6 && finding is null; i++) finding = watch.Quoted(Alice, new BigInteger(5_000), T0.AddMinutes(2).AddSeconds(1));
        Assert.Equal("high-value-quotes", finding?.Rule);
    }

    [Fact]
    public void Repeated_simulation_reverts_fire_other_refusals_do_not()
    {
        var watch = new FraudWatch(new FraudRules { RevertsMax = 3 });
        for (var i = 0; i < 10; i++) Assert.Null(watch.Refused(RejectionCodes.InvalidSignature, T0));
        for (var i = 0; i < 2; i++) Assert.Null(watch.Refused(RejectionCodes.SimulationReverted, T0));
        Assert.Null(watch.Refused(RejectionCodes.UntrustedTarget, T0));

        Assert.Equal("simulation-reverts", watch.Refused(RejectionCodes.SimulationReverted, T0)?.Rule);
    }

    [Fact]
    public void A_sliding_count_forgets_what_left_its_window()
    {
        var count = new SlidingCount(TimeSpan.FromSeconds(10));
        count.Add(T0, 5);
        count.Add(T0.AddSeconds(5), 2);

        Assert.Equal(7, count.Total(T0.AddSeconds(9)));
        Assert.Equal(2, count.Total(T0.AddSeconds(12)));
        Assert.Equal(0, count.Total(T0.AddSeconds(30)));
    }
}
