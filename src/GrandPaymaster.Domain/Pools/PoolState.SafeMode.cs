using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;
using GrandPaymaster.Domain.Money;
using static GrandPaymaster.Domain.Pools.PoolCommands;
using static GrandPaymaster.Domain.Pools.PoolEvents;

namespace GrandPaymaster.Domain.Pools;

/// <summary>When the market makes a pool defensive (<see cref="PoolMode.SafeMode"/>) and when it may stop being so.</summary>
public sealed record SafeModePolicy
{
    /// <summary>A gas median at least this much of its trailing average is a spike (20,000 bps: twice the average).</summary>
    public int SpikeBps { get; init; } = 20_000;

    /// <summary>Volatility of the gas median at or above this.</summary>
    public int VolatilityBps { get; init; } = 2_500;

    /// <summary>A mempool with at least this many pending transactions is congested (where the node tells).</summary>
    public BigInteger CongestedPending { get; init; } = 5_000;

    /// <summary>Failed transactions (reverted or dropped) among the pool's recent final ones, at or above this...</summary>
    public int FailureRateBps { get; init; } = 2_500;

    /// <summary>...once at least this many are final (too few say nothing)...</summary>
    public int FailureRateMinOutcomes { get; init; } = 10;

    /// <summary>...counting only those final within this window (a quiet chain's old failures do not keep it defensive).</summary>
    public TimeSpan FailureWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>No trigger for this long before the pool leaves SAFE_MODE (hysteresis).</summary>
    public TimeSpan CalmPeriod { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>A final transaction of the pool: whether it did what it was for, and when it became final.</summary>
public sealed record TxOutcome(bool Succeeded, DateTimeOffset At);

/// <summary>SAFE_MODE (DESIGN.md §2, S2): the pool's market-driven mode, every transition journaled with its inputs as the reason.</summary>
public sealed partial record PoolState
{
    /// <summary>The pool's last final outcomes (true: succeeded) that the failure rate is computed over.</summary>
    public const int RecentOutcomesKept = 50;

    /// <summary>Recent final outcomes, oldest first (folded from the journal).</summary>
    public ImmutableQueue<TxOutcome> RecentOutcomes { get; init; } = ImmutableQueue<TxOutcome>.Empty;

    /// <summary>Since when no SAFE_MODE trigger has fired while in SAFE_MODE (transient: after a restart the calm period starts over).</summary>
    public DateTimeOffset? CalmSince { get; init; }

    /// <summary>
    /// One oracle tick. A serving pool in NORMAL with any trigger enters SAFE_MODE; in SAFE_MODE, any trigger restarts the
    /// calm period and none for <see cref="SafeModePolicy.CalmPeriod"/> returns it to NORMAL. Paused and disabled pools are
    /// left alone (endpoints and operators decide those).
    /// </summary>
    public PoolStep ObserveMarket(ObserveMarket market, DateTimeOffset now, PoolPolicy policy)
    {
        if (!Mode.Serves) return Nothing;
        var triggers = SafeModeTriggers(market, policy.SafeMode);
        switch (Mode.Mode)
        {
            case PoolMode.Normal when triggers.Count > 0:
                return (this with { CalmSince = null }).Step([new PoolModeChanged(ChainId, PoolMode.SafeMode, PauseCause.Auto,
                    SystemMeta($"safe mode: {string.Join("; ", triggers)} ({Inputs(market)})", now))]);
            case PoolMode.SafeMode when triggers.Count > 0:
                return new PoolStep(this with { CalmSince = null }, [], []);
            case PoolMode.SafeMode:
                var calmSince = CalmSince ?? now;
                if (now - calmSince < policy.SafeMode.CalmPeriod) return new PoolStep(this with { CalmSince = calmSince }, [], []);
                return (this with { CalmSince = null }).Step([new PoolModeChanged(ChainId, PoolMode.Normal, PauseCause.None,
                    SystemMeta($"market calm for {policy.SafeMode.CalmPeriod.TotalSeconds:0} s ({Inputs(market)})", now))]);
            default:
                return Nothing;
        }
    }

    /// <summary>What fires, in words an operator reads in the journal.</summary>
    public IReadOnlyList<string> SafeModeTriggers(ObserveMarket market, SafeModePolicy policy)
    {
        var triggers = new List<string>();
        if (market.TrailingAverage > 0 && market.Median * Bps.Denominator >= market.TrailingAverage * policy.SpikeBps)
            triggers.Add($"gas spike: median {market.Median} ≥ {policy.SpikeBps / 100.0:0.#} % of its trailing average {market.TrailingAverage}");
        if (market.VolatilityBps >= policy.VolatilityBps)
            triggers.Add($"volatility {market.VolatilityBps} bps ≥ {policy.VolatilityBps}");
        if (market.MempoolPending is { } pending && pending >= policy.CongestedPending)
            triggers.Add($"mempool congested: {pending} pending ≥ {policy.CongestedPending}");
        var outcomes = RecentOutcomes.Where(o => market.At - o.At <= policy.FailureWindow).ToArray();
        var failed = outcomes.Count(o => !o.Succeeded);
        if (outcomes.Length >= policy.FailureRateMinOutcomes && failed * Bps.Denominator >= outcomes.Length * policy.FailureRateBps)
            triggers.Add($"{failed} of the last {outcomes.Length} transactions failed");
        return triggers;
    }

    private string Inputs(ObserveMarket market) => string.Create(CultureInfo.InvariantCulture,
        $"median {market.Median} wei, trailing average {market.TrailingAverage}, volatility {market.VolatilityBps} bps, mempool {market.MempoolPending?.ToString(CultureInfo.InvariantCulture) ?? "n/a"}, failed {RecentOutcomes.Count(o => !o.Succeeded)}/{RecentOutcomes.Count()}");

    private PoolState WithOutcome(bool succeeded, DateTimeOffset at)
    {
        var outcomes = RecentOutcomes.Enqueue(new TxOutcome(succeeded, at));
        while (outcomes.Count() > RecentOutcomesKept) outcomes = outcomes.Dequeue();
        return this with { RecentOutcomes = outcomes };
    }
}
