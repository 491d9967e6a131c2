using System.Collections.Immutable;
using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Domain.Dapps;

/// <summary>
/// Spending limits in one fee token, in its base units; null means no limit. <see cref="Daily"/> and
/// <see cref="PerUserDaily"/> count, per UTC day, the holds opened that day (settled fees plus holds still open);
/// <see cref="PerTransaction"/> bounds one quote's maximum fee.
/// </summary>
public sealed record TokenLimits(BigInteger? Daily = null, BigInteger? PerUserDaily = null, BigInteger? PerTransaction = null)
{
    public static readonly TokenLimits None = new();

    /// <summary>The tighter of two limits, field by field.</summary>
    public TokenLimits Tighten(TokenLimits other) =>
        new(Min(Daily, other.Daily), Min(PerUserDaily, other.PerUserDaily), Min(PerTransaction, other.PerTransaction));

    /// <summary>True when every limit here is at or below <paramref name="ceiling"/>'s (a missing limit is above any number).</summary>
    public bool IsWithin(TokenLimits ceiling) =>
        Below(Daily, ceiling.Daily) && Below(PerUserDaily, ceiling.PerUserDaily) && Below(PerTransaction, ceiling.PerTransaction);

    private static bool Below(BigInteger? value, BigInteger? ceiling) => ceiling is not { } c || value is { } v && v <= c;

    private static BigInteger? Min(BigInteger? a, BigInteger? b) => a is { } x ? b is { } y ? BigInteger.Min(x, y) : x : b;
}

/// <summary>
/// What an operator allows a dApp: per-token limits (the ceilings the dApp's own limits must stay under), the chains and
/// target contracts it may be sponsored on (null: all), its surcharge and its quote rate. Set by events only.
/// </summary>
public sealed record DappPolicy(
    ImmutableDictionary<FeeToken, TokenLimits> Limits,
    ImmutableSortedSet<long>? AllowedChains,
    ImmutableHashSet<Address>? AllowedTargets,
    int QuotesPerSecond)
{
    public const int MaxQuotesPerSecond = 10_000;

    /// <summary>No caps, every chain and target, <paramref name="quotesPerSecond"/> quotes a second.</summary>
    public static DappPolicy Open(int quotesPerSecond) =>
        new(ImmutableDictionary<FeeToken, TokenLimits>.Empty, null, null, quotesPerSecond);

    public TokenLimits LimitsOf(FeeToken token) => Limits.GetValueOrDefault(token, TokenLimits.None);

    public bool AllowsChain(ChainId chainId) => AllowedChains is null || AllowedChains.Contains(chainId.Value);

    public bool AllowsTarget(Address target) => AllowedTargets is null || AllowedTargets.Contains(target);
}

/// <summary>
/// One UTC day's spending of a dApp per token: the maximum fees of the holds opened that day, each replaced by its fee
/// once settled and removed when released, in total and per user (the verified signer of a forwarded request).
/// Derived from the journal's events only, so a replay rebuilds it exactly.
/// </summary>
public sealed record DailySpend(DateOnly Day, ImmutableDictionary<FeeToken, BigInteger> Total, ImmutableDictionary<string, BigInteger> ByUser)
{
    public static readonly DailySpend None = new(DateOnly.MinValue, ImmutableDictionary<FeeToken, BigInteger>.Empty,
        ImmutableDictionary<string, BigInteger>.Empty.WithComparers(StringComparer.Ordinal));

    public static DateOnly DayOf(DateTimeOffset at) => DateOnly.FromDateTime(at.UtcDateTime);

    /// <summary>The next UTC midnight after <paramref name="at"/>, when the counters start again.</summary>
    public static DateTimeOffset NextReset(DateTimeOffset at) => new(DayOf(at).AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    public BigInteger TotalOn(DateOnly day, FeeToken token) => day == Day ? Total.GetValueOrDefault(token) : 0;

    public BigInteger UserOn(DateOnly day, FeeToken token, Address user) => day == Day ? ByUser.GetValueOrDefault(UserKey(token, user)) : 0;

    /// <summary>
    /// Adds <paramref name="delta"/> (negative to take back) to the counters of <paramref name="day"/>; a new day starts from zero.
    /// A take-back for an earlier day is ignored (that day's counters are gone); a hold stamped with an earlier day (a clock
    /// behind after a handover) counts on the current day, so it never escapes a cap.
    /// </summary>
    public DailySpend Add(DateOnly day, FeeToken token, Address? user, BigInteger delta)
    {
        if (day < Day && delta.Sign < 0) return this;
        if (day < Day) day = Day;
        var spend = day == Day ? this : None with { Day = day };
        var total = spend.Total.SetItem(token, spend.Total.GetValueOrDefault(token) + delta);
        var byUser = user is { } u ? spend.ByUser.SetItem(UserKey(token, u), spend.ByUser.GetValueOrDefault(UserKey(token, u)) + delta) : spend.ByUser;
        return spend with { Total = total, ByUser = byUser };
    }

    private static string UserKey(FeeToken token, Address user) => $"{token.Symbol()}:{user.Value}";
}

/// <summary>Why a dApp is frozen: the rule (or operator) that froze it and the evidence it saw.</summary>
public sealed record Freeze(string Rule, string Evidence, DateTimeOffset At);
