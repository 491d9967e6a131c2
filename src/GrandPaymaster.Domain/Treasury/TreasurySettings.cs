using System.Collections.Immutable;
using System.Numerics;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Domain.Treasury;

/// <summary>
/// A pool wallet's balance levels (<c>gpm.treasury.thresholds</c>, per chain overrides): below <see cref="Min"/> a Critical top-up,
/// below <see cref="Warning"/> a Warning one, below <see cref="Target"/> by at least <see cref="MinTopUp"/> a Normal one; every
/// top-up fills the wallet back to <see cref="Target"/>. Above <see cref="Ceiling"/> the surplus is reported.
/// </summary>
public sealed record WalletThresholds(Wei Min, Wei Warning, Wei Target, Wei Ceiling, Wei MinTopUp)
{
    public WalletThresholds Checked(string where)
    {
        if (!(Min.Value <= Warning.Value && Warning.Value <= Target.Value && Target.Value <= Ceiling.Value))
            throw new InvalidOperationException($"{where}: thresholds must satisfy min <= warning <= target <= ceiling (got {Min}, {Warning}, {Target}, {Ceiling}).");
        if (Target.Value.Sign <= 0) throw new InvalidOperationException($"{where}: target must be positive.");
        return this;
    }

    /// <summary>How urgent a top-up of a wallet holding <paramref name="balance"/> is; null: none is needed.</summary>
    public RebalancePriority? Classify(Wei balance)
    {
        if (balance.Value < Min.Value) return RebalancePriority.Critical;
        if (balance.Value < Warning.Value) return RebalancePriority.Warning;
        if (Target.Value - balance.Value >= BigInteger.Max(MinTopUp.Value, BigInteger.One)) return RebalancePriority.Normal;
        return null;
    }

    /// <summary>What fills the wallet back to target (zero when it is there).</summary>
    public Wei ShortfallOf(Wei balance) => new(BigInteger.Max(BigInteger.Zero, Target.Value - balance.Value));

    /// <summary>What lies above the ceiling (zero when below).</summary>
    public Wei SurplusOf(Wei balance) => new(BigInteger.Max(BigInteger.Zero, balance.Value - Ceiling.Value));
}

/// <summary>Exponential backoff with jitter of failed top-ups (<c>gpm.treasury.retry</c>).</summary>
public sealed record RetryPolicy(TimeSpan Base, double Factor, TimeSpan Cap, double Jitter)
{
    /// <summary>
    /// The wait after the <paramref name="failures"/>-th failure in a row: min(cap, base × factor^(failures − 1)), less a share of
    /// it up to <see cref="Jitter"/> drawn from <paramref name="unit"/> (a number in [0, 1) from the injected, seeded RNG).
    /// </summary>
    public TimeSpan DelayAfter(int failures, double unit)
    {
        if (failures < 1) return TimeSpan.Zero;
        var ceiling = Math.Min(Cap.TotalMilliseconds, Base.TotalMilliseconds * Math.Pow(Factor, Math.Min(failures - 1, 64)));
        return TimeSpan.FromMilliseconds(ceiling * (1 - Jitter * Math.Clamp(unit, 0, 1)));
    }

    public RetryPolicy Checked()
    {
        if (Base <= TimeSpan.Zero || Cap < Base) throw new InvalidOperationException("gpm.treasury.retry: base must be positive and cap at least base.");
        if (Factor < 1) throw new InvalidOperationException("gpm.treasury.retry.factor must be at least 1.");
        if (Jitter is < 0 or > 1) throw new InvalidOperationException("gpm.treasury.retry.jitter must be within [0, 1].");
        return this;
    }
}

/// <summary>Everything the Orchestrator decides with (<c>hocon/treasury.hocon</c> under <c>Gpm:Treasury:Hocon</c>).</summary>
public sealed record TreasurySettings
{
    public WalletThresholds Thresholds { get; init; } = new(new Wei(10 * Wei.PerCoin), new Wei(25 * Wei.PerCoin), new Wei(100 * Wei.PerCoin),
        new Wei(200 * Wei.PerCoin), new Wei(10 * Wei.PerCoin));

    /// <summary>Per chain id, thresholds that differ from <see cref="Thresholds"/>.</summary>
    public ImmutableDictionary<long, WalletThresholds> PerChain { get; init; } = ImmutableDictionary<long, WalletThresholds>.Empty;

    public TimeSpan BalanceEvery { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan HintDebounce { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan SpendWindow { get; init; } = TimeSpan.FromHours(1);
    public int MaxSamples { get; init; } = 240;
    public TimeSpan Tick { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public RetryPolicy Retry { get; init; } = new(TimeSpan.FromSeconds(2), 2, TimeSpan.FromMinutes(5), 0.2);
    public int PageAfterFailures { get; init; } = 3;
    public string PageSeverity { get; init; } = "critical";
    public int MaxWalletsPerChain { get; init; } = 256;
    public int SnapshotEvery { get; init; } = 500;

    public WalletThresholds ThresholdsOf(long chainId) => PerChain.GetValueOrDefault(chainId) ?? Thresholds;

    public TreasurySettings Checked()
    {
        Thresholds.Checked("gpm.treasury.thresholds");
        foreach (var (chain, t) in PerChain) t.Checked($"gpm.treasury.chains.\"{chain}\"");
        Retry.Checked();
        if (PageAfterFailures < 1) throw new InvalidOperationException("gpm.treasury.page-after-failures must be at least 1.");
        if (MaxSamples < 2) throw new InvalidOperationException("gpm.treasury.max-samples must be at least 2.");
        if (MaxWalletsPerChain < 1) throw new InvalidOperationException("gpm.treasury.max-wallets-per-chain must be at least 1.");
        if (Tick <= TimeSpan.Zero || BalanceEvery <= TimeSpan.Zero || ReplyTimeout <= TimeSpan.Zero || SpendWindow <= TimeSpan.Zero)
            throw new InvalidOperationException("gpm.treasury: tick, balance-every, reply-timeout and spend-window must be positive.");
        if (PageSeverity is not ("critical" or "error" or "warning" or "info"))
            throw new InvalidOperationException("gpm.treasury.page-severity must be one of critical, error, warning, info (PagerDuty Events API v2).");
        return this;
    }
}
