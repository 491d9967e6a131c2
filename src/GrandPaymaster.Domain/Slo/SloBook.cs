using System.Collections.Immutable;

namespace GrandPaymaster.Domain.Slo;

/// <summary>
/// Good and total events in fixed time buckets on a ring: memory is <c>buckets</c> pairs of counters whatever the traffic.
/// A bucket is reused when its time comes round again (its old counts are dropped then). Not thread-safe (see <see cref="SloBook"/>).
/// </summary>
public sealed class BucketedCounter
{
    private readonly long _bucketTicks;
    private readonly long[] _number;
    private readonly long[] _good;
    private readonly long[] _total;

    public BucketedCounter(TimeSpan bucket, int buckets)
    {
        if (bucket <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(bucket), bucket, "must be positive");
        if (buckets < 1) throw new ArgumentOutOfRangeException(nameof(buckets), buckets, "must be at least 1");
        _bucketTicks = bucket.Ticks;
        _number = Enumerable.Repeat(-1L, buckets).ToArray();
        _good = new long[buckets];
        _total = new long[buckets];
    }

    /// <summary>The span the ring covers.</summary>
    public TimeSpan Span => TimeSpan.FromTicks(_bucketTicks * _number.Length);

    public void Add(DateTimeOffset at, long good, long total)
    {
        var number = at.UtcTicks / _bucketTicks;
        var slot = (int)(number % _number.Length);
        if (_number[slot] != number)
        {
            if (_number[slot] > number) return; // older than the ring keeps
            _number[slot] = number;
            _good[slot] = 0;
            _total[slot] = 0;
        }

        _good[slot] += good;
        _total[slot] += total;
    }

    /// <summary>Events of the last <paramref name="window"/> up to <paramref name="now"/>: the current bucket and the whole buckets before it.</summary>
    public (long Good, long Total) Sum(DateTimeOffset now, TimeSpan window)
    {
        var current = now.UtcTicks / _bucketTicks;
        var buckets = Math.Min(_number.Length, Math.Max(1, (long)Math.Ceiling((double)window.Ticks / _bucketTicks)));
        long good = 0, total = 0;
        for (var i = 0; i < _number.Length; i++)
        {
            var n = _number[i];
            if (n > current - buckets && n <= current)
            {
                good += _good[i];
                total += _total[i];
            }
        }

        return (good, total);
    }
}

/// <summary>A service level objective: the fraction of good events it promises (0 &lt; objective &lt; 1).</summary>
public sealed record SloDefinition(string Name, double Objective, string Description)
{
    public double ErrorBudget => 1 - Objective;
}

/// <summary>One window of an SLO: its events, SLI (good / total), burn rate (bad fraction / error budget) and the budget left (1 − burn).</summary>
public sealed record SloWindow(long Good, long Total)
{
    public double? Sli => Total == 0 ? null : (double)Good / Total;

    public double? BurnRate(double errorBudget) => Total == 0 ? null : (1 - (double)Good / Total) / errorBudget;

    public double? BudgetRemaining(double errorBudget) => BurnRate(errorBudget) is { } burn ? 1 - burn : null;
}

/// <summary>An SLO as this node has seen it: the reported windows (1h, 6h, 30d), the alerting short windows (5m, 30m) and its status.</summary>
public sealed record SloReport(SloDefinition Definition, ImmutableDictionary<string, SloWindow> Windows, string Status, bool FastBurn)
{
    public double? BurnRate(string window) => Windows[window].BurnRate(Definition.ErrorBudget);
}

/// <summary>When an SLO is burning fast (the multiwindow, multi-burn-rate rule of the Google SRE workbook, chapter 5).</summary>
public sealed record BurnRule(double LongBurn = 14.4, double SlowBurn = 6, long MinEvents = 20)
{
    /// <summary>1 h and 5 m both above <see cref="LongBurn"/>, or 6 h and 30 m both above <see cref="SlowBurn"/>; each window with <see cref="MinEvents"/> at least.</summary>
    public bool IsFastBurn(Func<string, SloWindow> window, double budget)
    {
        bool Above(string name, double rate) => window(name) is { } w && w.Total >= MinEvents && w.BurnRate(budget) > rate;
        return (Above(SloBook.Hour, LongBurn) && Above(SloBook.FiveMinutes, LongBurn)) || (Above(SloBook.SixHours, SlowBurn) && Above(SloBook.HalfHour, SlowBurn));
    }
}

/// <summary>
/// The SLOs of this node, counted in memory: per SLO 1-minute buckets over 6 hours (360) and 1-hour buckets over 30 days (720), so
/// the memory is fixed. Windows start afresh with the process. Thread-safe (one lock per SLO; the edge records every dApp answer).
/// </summary>
public sealed class SloBook
{
    public const string FiveMinutes = "5m";
    public const string HalfHour = "30m";
    public const string Hour = "1h";
    public const string SixHours = "6h";
    public const string ThirtyDays = "30d";

    /// <summary>The windows <c>GET /admin/v1/slo</c> reports.</summary>
    public static readonly ImmutableArray<string> Reported = [Hour, SixHours, ThirtyDays];

    public const string Availability = "availability";
    public const string QuoteLatency = "quote-latency";
    public const string TransactionSuccess = "transaction-success";
    public const string RebalanceSuccess = "rebalance-success";

    /// <summary>The objectives of issue 10.</summary>
    public static readonly ImmutableArray<SloDefinition> Defaults =
    [
        new(Availability, 0.995, "dApp API answers that are not 5xx"),
        new(QuoteLatency, 0.95, "quotes answered within 800 ms (p95 < 800 ms)"),
        new(TransactionSuccess, 0.99, "sponsored transactions settled successfully, of those finished (settled, reverted or released)"),
        new(RebalanceSuccess, 0.99, "pool rebalances that completed, of those finished (fed by the treasury's Orchestrator)"),
    ];

    private readonly ImmutableDictionary<string, Series> _series;

    public SloBook(IEnumerable<SloDefinition>? definitions = null, BurnRule? rule = null)
    {
        Rule = rule ?? new BurnRule();
        var all = (definitions ?? Defaults).ToArray();
        foreach (var d in all)
            if (d.Objective is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(definitions), d.Objective, $"SLO {d.Name}: the objective must be between 0 and 1");
        Definitions = [.. all];
        _series = all.ToImmutableDictionary(d => d.Name, d => new Series(), StringComparer.Ordinal);
    }

    public ImmutableArray<SloDefinition> Definitions { get; }

    public BurnRule Rule { get; }

    /// <summary>Counts one event of <paramref name="slo"/> (unknown names are ignored: the set of SLOs is fixed).</summary>
    public void Record(string slo, bool good, DateTimeOffset at)
    {
        if (!_series.TryGetValue(slo, out var series)) return;
        lock (series)
        {
            series.Minutes.Add(at, good ? 1 : 0, 1);
            series.Hours.Add(at, good ? 1 : 0, 1);
        }
    }

    public ImmutableArray<SloReport> Report(DateTimeOffset now) => [.. Definitions.Select(d => Report(d, now))];

    private SloReport Report(SloDefinition definition, DateTimeOffset now)
    {
        var series = _series[definition.Name];
        ImmutableDictionary<string, SloWindow> windows;
        lock (series)
        {
            SloWindow Minutes(int minutes) => Window(series.Minutes.Sum(now, TimeSpan.FromMinutes(minutes)));
            windows = ImmutableDictionary<string, SloWindow>.Empty.WithComparers(StringComparer.Ordinal)
                .Add(FiveMinutes, Minutes(5)).Add(HalfHour, Minutes(30)).Add(Hour, Minutes(60)).Add(SixHours, Minutes(360))
                .Add(ThirtyDays, Window(series.Hours.Sum(now, TimeSpan.FromDays(30))));
        }

        var fast = Rule.IsFastBurn(name => windows[name], definition.ErrorBudget);
        var month = windows[ThirtyDays];
        var status = month.Total == 0 ? "no_data"
            : month.Total >= Rule.MinEvents && month.BudgetRemaining(definition.ErrorBudget) <= 0 ? "exhausted"
            : fast ? "burning"
            : "ok";
        return new SloReport(definition, windows, status, fast);
    }

    private static SloWindow Window((long Good, long Total) sum) => new(sum.Good, sum.Total);

    private sealed class Series
    {
        public BucketedCounter Minutes { get; } = new(TimeSpan.FromMinutes(1), 360);
        public BucketedCounter Hours { get; } = new(TimeSpan.FromHours(1), 720);
    }
}

/// <summary>
/// A rebalance finished (told on a node's event stream): the treasury issue's Orchestrator publishes it and the
/// <see cref="SloBook.RebalanceSuccess"/> SLO counts it. Nothing publishes it yet, so that SLO reports <c>no_data</c>.
/// </summary>
public sealed record RebalanceFinished(long ChainId, bool Succeeded, DateTimeOffset At);
