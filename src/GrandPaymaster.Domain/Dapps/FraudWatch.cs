using System.Globalization;
using System.Numerics;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Domain.Dapps;

/// <summary>A count over a sliding window, kept in a fixed number of time buckets (memory does not grow with the count).</summary>
public sealed class SlidingCount
{
    private readonly long _bucketTicks;
    private readonly long[] _counts;
    private readonly long[] _slots;

    public SlidingCount(TimeSpan window, int buckets = 20)
    {
        if (window <= TimeSpan.Zero || buckets < 1) throw new ArgumentOutOfRangeException(nameof(window), "A window must be positive.");
        Window = window;
        _bucketTicks = Math.Max(1, window.Ticks / buckets);
        _counts = new long[buckets];
        _slots = new long[buckets];
        Array.Fill(_slots, -1);
    }

    public TimeSpan Window { get; }

    public void Add(DateTimeOffset at, long n = 1)
    {
        var slot = at.UtcTicks / _bucketTicks;
        var i = (int)(slot % _counts.Length);
        if (_slots[i] != slot)
        {
            _slots[i] = slot;
            _counts[i] = 0;
        }

        _counts[i] += n;
    }

    public long Total(DateTimeOffset now)
    {
        var current = now.UtcTicks / _bucketTicks;
        long total = 0;
        for (var i = 0; i < _counts.Length; i++)
            if (_slots[i] > current - _counts.Length && _slots[i] <= current) total += _counts[i];
        return total;
    }
}

/// <summary>The thresholds of the fraud rules (<c>gpm.policy.fraud</c> in <c>hocon/policy.hocon</c>).</summary>
public sealed record FraudRules
{
    /// <summary>Quotes that are never executed: at least <see cref="UnexecutedMinQuotes"/> in the window and more than <see cref="UnexecutedMaxRatio"/> per execute.</summary>
    public TimeSpan UnexecutedWindow { get; init; } = TimeSpan.FromMinutes(10);
    public int UnexecutedMinQuotes { get; init; } = 500;
    public int UnexecutedMaxRatio { get; init; } = 50;

    /// <summary>Senders this dApp has not quoted for before, more than <see cref="FreshSendersMax"/> in the window.</summary>
    public TimeSpan FreshSendersWindow { get; init; } = TimeSpan.FromMinutes(1);
    public int FreshSendersMax { get; init; } = 300;

    /// <summary>How many senders are remembered as seen (the oldest half is forgotten when full).</summary>
    public int RememberedSenders { get; init; } = 20_000;

    /// <summary>Quotes whose most native gas is at least <see cref="HighValueWei"/>, more than <see cref="HighValueMax"/> in the window.</summary>
    public TimeSpan HighValueWindow { get; init; } = TimeSpan.FromMinutes(1);
    public BigInteger HighValueWei { get; init; } = BigInteger.Pow(10, 17);
    public int HighValueMax { get; init; } = 20;

    /// <summary>Requests refused <c>simulation_reverted</c> or <c>untrusted_target</c>, more than <see cref="RevertsMax"/> in the window.</summary>
    public TimeSpan RevertsWindow { get; init; } = TimeSpan.FromMinutes(1);
    public int RevertsMax { get; init; } = 100;
}

/// <summary>A fraud rule that fired: its name and what it saw.</summary>
public sealed record FraudFinding(string Rule, string Evidence);

/// <summary>
/// One dApp's fraud rules over sliding windows (S8): quotes that are never executed, bursts of senders never seen,
/// bursts of high-value quotes and repeated simulation reverts. Memory of the entity only (not journaled): what a rule
/// finds is journaled as the freeze that follows. Time is passed in, so it is tested without a clock.
/// </summary>
public sealed class FraudWatch
{
    private readonly FraudRules _rules;
    private readonly SlidingCount _quotes;
    private readonly SlidingCount _executes;
    private readonly SlidingCount _fresh;
    private readonly SlidingCount _highValue;
    private readonly SlidingCount _reverts;
    private HashSet<Address> _seen = [];
    private HashSet<Address> _seenBefore = [];

    public FraudWatch(FraudRules rules)
    {
        _rules = rules;
        _quotes = new SlidingCount(rules.UnexecutedWindow);
        _executes = new SlidingCount(rules.UnexecutedWindow);
        _fresh = new SlidingCount(rules.FreshSendersWindow);
        _highValue = new SlidingCount(rules.HighValueWindow);
        _reverts = new SlidingCount(rules.RevertsWindow);
    }

    /// <summary>A quote was issued; <paramref name="mostNativeGas"/> is the most it can cost in the chain's coin (wei).</summary>
    public FraudFinding? Quoted(Address sender, BigInteger mostNativeGas, DateTimeOffset at)
    {
        _quotes.Add(at);
        if (Remember(sender)) _fresh.Add(at);
        if (mostNativeGas >= _rules.HighValueWei) _highValue.Add(at);
        return Check(at);
    }

    public void Executed(DateTimeOffset at) => _executes.Add(at);

    /// <summary>An edge refused one of the dApp's requests with <paramref name="code"/> before it reached the entity.</summary>
    public FraudFinding? Refused(string code, DateTimeOffset at)
    {
        if (code is not (RejectionCodes.SimulationReverted or RejectionCodes.UntrustedTarget)) return null;
        _reverts.Add(at);
        var reverts = _reverts.Total(at);
        return reverts > _rules.RevertsMax
            ? new FraudFinding("simulation-reverts",
                $"{reverts} requests reverted in simulation or named an untrusted target within {Show(_rules.RevertsWindow)} (limit {_rules.RevertsMax})")
            : null;
    }

    private FraudFinding? Check(DateTimeOffset at)
    {
        var quotes = _quotes.Total(at);
        var executes = _executes.Total(at);
        if (quotes >= _rules.UnexecutedMinQuotes && quotes > executes * (long)_rules.UnexecutedMaxRatio)
            return new FraudFinding("unexecuted-quotes",
                $"{quotes} quotes and {executes} executions within {Show(_rules.UnexecutedWindow)} (more than {_rules.UnexecutedMaxRatio} quotes per execution)");
        var fresh = _fresh.Total(at);
        if (fresh > _rules.FreshSendersMax)
            return new FraudFinding("fresh-senders", $"{fresh} never-seen senders within {Show(_rules.FreshSendersWindow)} (limit {_rules.FreshSendersMax})");
        var high = _highValue.Total(at);
        return high > _rules.HighValueMax
            ? new FraudFinding("high-value-quotes",
                $"{high} quotes of at least {_rules.HighValueWei} wei of gas within {Show(_rules.HighValueWindow)} (limit {_rules.HighValueMax})")
            : null;
    }

    /// <summary>True when the sender was not seen before. Two generations keep the memory bounded: when the current is full the older is dropped.</summary>
    private bool Remember(Address sender)
    {
        if (_seen.Contains(sender)) return false;
        var fresh = !_seenBefore.Contains(sender);
        if (_seen.Count >= _rules.RememberedSenders / 2)
        {
            _seenBefore = _seen;
            _seen = [];
        }

        _seen.Add(sender);
        return fresh;
    }

    private static string Show(TimeSpan window) => window.TotalMinutes >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{window.TotalMinutes:0.#} min")
        : string.Create(CultureInfo.InvariantCulture, $"{window.TotalSeconds:0} s");
}
