using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using GrandPaymaster.Actors.Dapps;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;

namespace GrandPaymaster.Node.Policy;

/// <summary>A change of a dApp's THROTTLED state this edge decided; the dApp's entity journals it.</summary>
public sealed record ThrottleChange(DappId DappId, bool Throttled, string Reason, DateTimeOffset Until);

/// <summary>
/// THROTTLED (S7), decided at the edge before any actor message, so a flood costs other dApps nothing: per dApp a token
/// bucket of quotes (System.Threading.RateLimiting; the dApp's policy rate or the node's) and surge detection against the
/// dApp's own baseline. A dApp whose bucket runs dry or whose rate surges is throttled for the cooldown: every quote is
/// answered <c>429 throttled</c> with <c>Retry-After</c>. Entry and exit are reported (and journaled by the dApp).
/// Memory: one entry per registered dApp that quoted on this node.
/// </summary>
public sealed class ThrottleGuard : IDisposable
{
    private readonly ConcurrentDictionary<DappId, Traffic> _traffic = new();
    private readonly QuoteRateSettings _rates;
    private readonly ThrottleSettings _settings;
    private readonly TimeProvider _clock;
    private readonly Action<ThrottleChange> _report;
    private readonly ITimer _sweep;

    public ThrottleGuard(QuoteRateSettings rates, ThrottleSettings settings, TimeProvider clock, Action<ThrottleChange> report)
    {
        _rates = rates;
        _settings = settings;
        _clock = clock;
        _report = report;
        // One timer for every bucket (each gets its rate's tokens a second), on the node's clock; a throttled dApp that stops
        // sending still leaves THROTTLED on time (and that is journaled).
        _sweep = clock.CreateTimer(_ => Sweep(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>Admits one quote of <paramref name="entry"/>'s dApp, or the seconds it must wait.</summary>
    public (bool Allowed, int RetryAfterSeconds) TryQuote(DirectoryEntry entry)
    {
        var now = _clock.GetUtcNow();
        var rate = entry.QuotesPerSecond ?? _rates.PerSecond;
        var traffic = _traffic.GetOrAdd(entry.DappId, _ => new Traffic(rate, _rates.BurstFactor, _settings, now));
        ThrottleChange? change;
        (bool, int) answer;
        lock (traffic)
        {
            traffic.Adjust(rate, _rates.BurstFactor);
            if (traffic.Until is { } u && u > now) return (false, Seconds(u - now));
            change = traffic.Lift(entry.DappId, now);
            traffic.Count(now);
            var reason = traffic.Limiter.AttemptAcquire().IsAcquired
                ? traffic.Surge(now, _settings)
                : string.Create(CultureInfo.InvariantCulture, $"quote rate above {rate}/s (burst {rate * _rates.BurstFactor})");
            if (reason is null) answer = (true, 0);
            else
            {
                traffic.Until = now + _settings.Cooldown;
                change = new ThrottleChange(entry.DappId, true, reason, traffic.Until.Value);
                answer = (false, Seconds(_settings.Cooldown));
            }
        }

        if (change is not null) _report(change);
        return answer;
    }

    public void Dispose()
    {
        _sweep.Dispose();
        foreach (var traffic in _traffic.Values) traffic.Limiter.Dispose();
    }

    private void Sweep()
    {
        var now = _clock.GetUtcNow();
        foreach (var (id, traffic) in _traffic)
        {
            ThrottleChange? change;
            lock (traffic)
            {
                traffic.Limiter.TryReplenish();
                change = traffic.Lift(id, now);
            }

            if (change is not null) _report(change);
        }
    }

    private static int Seconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));

    /// <summary>One dApp's traffic on this edge.</summary>
    private sealed class Traffic(int rate, int burstFactor, ThrottleSettings settings, DateTimeOffset firstSeen)
    {
        private readonly SlidingCount _recent = new(settings.SurgeWindow);
        private readonly SlidingCount _baseline = new(settings.BaselineWindow, buckets: 60);
        private int _rate = rate;

        public TokenBucketRateLimiter Limiter { get; private set; } = Bucket(rate, burstFactor);
        public DateTimeOffset? Until { get; set; }

        /// <summary>An operator changed the dApp's rate: a new bucket at the new rate.</summary>
        public void Adjust(int rate, int burstFactor)
        {
            if (rate == _rate) return;
            Limiter.Dispose();
            Limiter = Bucket(rate, burstFactor);
            _rate = rate;
        }

        public void Count(DateTimeOffset now)
        {
            _recent.Add(now);
            _baseline.Add(now);
        }

        /// <summary>The reason when the last surge window's rate is far above the dApp's own baseline (known once it has that much history).</summary>
        public string? Surge(DateTimeOffset now, ThrottleSettings s)
        {
            if (now - firstSeen < s.BaselineWindow) return null;
            var recent = _recent.Total(now) / s.SurgeWindow.TotalSeconds;
            var baseline = _baseline.Total(now) / s.BaselineWindow.TotalSeconds;
            return recent > s.SurgeMinPerSecond && recent > s.SurgeFactor * baseline
                ? string.Create(CultureInfo.InvariantCulture, $"surge: {recent:0.#} quotes/s against a baseline of {baseline:0.##}/s")
                : null;
        }

        /// <summary>Leaves THROTTLED once the cooldown has passed (one change, reported once).</summary>
        public ThrottleChange? Lift(DappId id, DateTimeOffset now)
        {
            if (Until is not { } until || until > now) return null;
            Until = null;
            return new ThrottleChange(id, false, "cooldown over", until);
        }

        private static TokenBucketRateLimiter Bucket(int rate, int burstFactor) => new(new TokenBucketRateLimiterOptions
        {
            TokenLimit = rate * burstFactor,
            TokensPerPeriod = rate,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = false,
        });
    }
}
