using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Pools;
using static GrandPaymaster.Domain.Pools.PoolCommands;
using static GrandPaymaster.Domain.Pools.PoolEvents;

namespace GrandPaymaster.Domain.Tests.Pools;

/// <summary>SAFE_MODE as the market drives it: which inputs make a pool defensive, and the calm period before it stops.</summary>
public sealed class SafeModeTests
{
    private static readonly ChainId Chain = new(31337);
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly BigInteger Gwei = 1_000_000_000;
    private static readonly PoolPolicy Policy = new() { SafeMode = new SafeModePolicy { CalmPeriod = TimeSpan.FromSeconds(60) } };

    private static ObserveMarket Calm(DateTimeOffset at) => new(Chain, 10 * Gwei, 10 * Gwei, 100, 3, at);

    private static ObserveMarket Spike(DateTimeOffset at) => new(Chain, 50 * Gwei, 12 * Gwei, 100, 3, at);

    [Fact]
    public void A_gas_spike_enters_safe_mode_with_its_inputs_as_the_journaled_reason()
    {
        var step = PoolState.Empty(Chain).ObserveMarket(Spike(Start), Start, Policy);

        var changed = Assert.IsType<PoolModeChanged>(Assert.Single(step.Events));
        Assert.Equal((PoolMode.SafeMode, PauseCause.Auto), (changed.Mode, changed.Cause));
        Assert.Contains("gas spike", changed.Meta.Reason);
        Assert.Contains($"median {50 * Gwei} wei", changed.Meta.Reason);
        Assert.Contains(step.Effects, e => e is PoolEffect.PublishMode { View.Mode: PoolMode.SafeMode });
        Assert.True(step.State.Mode.Serves);
    }

    [Theory]
    [InlineData(10, 10, 3_000, 3, "volatility")]
    [InlineData(10, 10, 100, 9_000, "mempool congested")]
    public void Volatility_or_a_congested_mempool_enter_safe_mode_too(long median, long average, int volatility, long pending, string why)
    {
        var step = PoolState.Empty(Chain).ObserveMarket(new ObserveMarket(Chain, median * Gwei, average * Gwei, volatility, pending, Start), Start, Policy);

        Assert.Contains(why, Assert.IsType<PoolModeChanged>(Assert.Single(step.Events)).Meta.Reason);
    }

    [Fact]
    public void Failing_transactions_enter_safe_mode_once_enough_are_final()
    {
        var state = PoolState.Empty(Chain);
        for (var i = 0; i < 9; i++) state = state.Apply(new TxDropped(Chain, QuoteId.Parse($"q-acme-{i:x32}"), "dropped", new Meta(Start, "system", "test", "c")));
        Assert.Empty(state.ObserveMarket(Calm(Start), Start, Policy).Events); // 9 failures: too few to say anything

        state = state.Apply(new TxDropped(Chain, QuoteId.Parse($"q-acme-{99:x32}"), "dropped", new Meta(Start, "system", "test", "c")));
        Assert.Contains("of the last 10 transactions failed", Assert.IsType<PoolModeChanged>(Assert.Single(state.ObserveMarket(Calm(Start), Start, Policy).Events)).Meta.Reason);
        // Old failures of a quiet chain say nothing any more.
        var later = Start + Policy.SafeMode.FailureWindow + TimeSpan.FromSeconds(1);
        Assert.Empty(state.ObserveMarket(Calm(later), later, Policy).Events);
    }

    [Fact]
    public void Safe_mode_ends_only_after_the_calm_period_and_any_trigger_restarts_it()
    {
        var state = PoolState.Empty(Chain).ObserveMarket(Spike(Start), Start, Policy).State;

        state = state.ObserveMarket(Calm(Start.AddSeconds(1)), Start.AddSeconds(1), Policy).State;
        state = state.ObserveMarket(Calm(Start.AddSeconds(50)), Start.AddSeconds(50), Policy).State;
        state = state.ObserveMarket(Spike(Start.AddSeconds(55)), Start.AddSeconds(55), Policy).State; // restarts the calm period
        var tooEarly = state.ObserveMarket(Calm(Start.AddSeconds(100)), Start.AddSeconds(100), Policy);
        Assert.Empty(tooEarly.Events);
        Assert.Equal(PoolMode.SafeMode, tooEarly.State.Mode.Mode);

        var calm = tooEarly.State.ObserveMarket(Calm(Start.AddSeconds(161)), Start.AddSeconds(161), Policy);
        var back = Assert.IsType<PoolModeChanged>(Assert.Single(calm.Events));
        Assert.Equal(PoolMode.Normal, back.Mode);
        Assert.Contains("calm for 60 s", back.Meta.Reason);
    }

    [Fact]
    public void A_paused_or_disabled_pool_is_left_to_its_cause()
    {
        var paused = PoolState.Empty(Chain).ObserveEndpoints(false, Start, Policy).State;
        Assert.Empty(paused.ObserveMarket(Spike(Start), Start, Policy).Events);
        Assert.Equal(PoolMode.Paused, paused.Mode.Mode);
    }

    // ---------------------------------------------------------------- the mode machine under random markets

    private static Gen<ObserveMarket> Markets(DateTimeOffset at) =>
        from median in Gen.Choose(1, 100)
        from average in Gen.Choose(1, 100)
        from volatility in Gen.Choose(0, 5_000)
        from pending in Gen.Choose(0, 8_000)
        select new ObserveMarket(Chain, median * Gwei, average * Gwei, volatility, pending, at);

    [Property(MaxTest = 300)]
    public Property No_transition_without_its_trigger_and_never_back_to_normal_before_a_calm_period() =>
        Prop.ForAll(Arb.From(Gen.Choose(1, 60).SelectMany(n => Gen.ArrayOf(Gen.Zip(Markets(Start), Gen.Choose(1, 30)), n))), ticks =>
        {
            var state = PoolState.Empty(Chain);
            var now = Start;
            DateTimeOffset? lastTrigger = null;
            foreach (var (market, seconds) in ticks)
            {
                now = now.AddSeconds(seconds);
                var observed = market with { At = now };
                var triggered = state.SafeModeTriggers(observed, Policy.SafeMode).Count > 0;
                var before = state.Mode.Mode;
                var step = state.ObserveMarket(observed, now, Policy);
                var after = step.State.Mode.Mode;
                if (triggered) lastTrigger = now;
                // Into SAFE_MODE only on a trigger; out of it only without one, and a calm period after the last one.
                if (before == PoolMode.Normal && after == PoolMode.SafeMode && !triggered) return false;
                if (before == PoolMode.SafeMode && after == PoolMode.Normal && (triggered || lastTrigger is null || now - lastTrigger < Policy.SafeMode.CalmPeriod))
                    return false;
                if (before != after && step.Events.Count != 1) return false;
                state = step.State;
            }

            return true;
        });
}
