using System.Collections.Immutable;
using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Domain.Treasury;

/// <summary>One balance reading of a wallet.</summary>
public sealed record BalanceSample(DateTimeOffset At, Wei Balance);

/// <summary>
/// The readings of each pool wallet within the spend window (at most <c>max-samples</c> each; bounded by the wallets watched):
/// its latest balance, its spend rate and its runway. Not journaled — balances are read again after a failover — and pure:
/// the clock comes in as arguments.
/// </summary>
public sealed record SpendBook(ImmutableDictionary<(long Chain, Address Wallet), ImmutableList<BalanceSample>> Samples)
{
    public static readonly SpendBook Empty = new(ImmutableDictionary<(long, Address), ImmutableList<BalanceSample>>.Empty);

    /// <summary>Adds a reading, dropping those older than the window (and the oldest beyond <paramref name="maxSamples"/>); an older reading than the last is ignored.</summary>
    public SpendBook Observe(ChainId chain, Address wallet, BalanceSample sample, TimeSpan window, int maxSamples)
    {
        var key = (chain.Value, wallet);
        var list = Samples.GetValueOrDefault(key) ?? ImmutableList<BalanceSample>.Empty;
        if (list.Count > 0 && sample.At < list[^1].At) return this;
        list = list.Add(sample);
        var from = sample.At - window;
        var drop = 0;
        while (drop < list.Count - 1 && (list[drop].At < from || list.Count - drop > maxSamples)) drop++;
        return new SpendBook(Samples.SetItem(key, list.RemoveRange(0, drop)));
    }

    public BalanceSample? Latest(ChainId chain, Address wallet) =>
        Samples.GetValueOrDefault((chain.Value, wallet)) is { Count: > 0 } list ? list[^1] : null;

    public IEnumerable<(ChainId Chain, Address Wallet)> Wallets => Samples.Keys.Select(k => (new ChainId(k.Chain), k.Wallet));

    public int WalletsOf(ChainId chain) => Samples.Keys.Count(k => k.Chain == chain.Value);

    /// <summary>
    /// What the wallet spent per hour over its readings: the sum of its decreases (increases are top-ups, not spending) over the
    /// readings' span. Null without two readings or a span; zero when it did not spend.
    /// </summary>
    public Wei? SpendPerHour(ChainId chain, Address wallet)
    {
        if (Samples.GetValueOrDefault((chain.Value, wallet)) is not { Count: >= 2 } list) return null;
        var span = list[^1].At - list[0].At;
        if (span <= TimeSpan.Zero) return null;
        var spent = Spent(list);
        return new Wei(spent * 3_600_000 / (long)Math.Max(1, span.TotalMilliseconds));
    }

    /// <summary>Time to empty at the spend rate: balance × span / spent, in seconds; null when it is not spending.</summary>
    public double? RunwaySeconds(ChainId chain, Address wallet)
    {
        if (Samples.GetValueOrDefault((chain.Value, wallet)) is not { Count: >= 2 } list) return null;
        var span = list[^1].At - list[0].At;
        var spent = Spent(list);
        if (span <= TimeSpan.Zero || spent.IsZero) return null;
        var millis = list[^1].Balance.Value * (long)span.TotalMilliseconds / spent;
        return Math.Round((double)millis / 1000, 3);
    }

    private static BigInteger Spent(ImmutableList<BalanceSample> list)
    {
        var spent = BigInteger.Zero;
        for (var i = 1; i < list.Count; i++)
        {
            var drop = list[i - 1].Balance.Value - list[i].Balance.Value;
            if (drop.Sign > 0) spent += drop;
        }

        return spent;
    }
}
