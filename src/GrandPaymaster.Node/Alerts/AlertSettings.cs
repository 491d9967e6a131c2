using Akka.Configuration;
using GrandPaymaster.Actors.Alerts;
using GrandPaymaster.Actors.Persistence;
using GrandPaymaster.Domain.Alerts;
using GrandPaymaster.Domain.Slo;

namespace GrandPaymaster.Node.Alerts;

/// <summary><c>Gpm:Alerts</c>: the operator's HOCON over <c>hocon/alerts.hocon</c>, and the pager (URL and routing key are secrets of configuration).</summary>
public sealed class AlertOptions
{
    public string Hocon { get; set; } = "";
    public PagingOptions Paging { get; set; } = new();
}

public sealed class PagingOptions
{
    /// <summary>The Events API v2 endpoint, e.g. <c>https://events.pagerduty.com/v2/enqueue</c>; unset: no paging.</summary>
    public string? Url { get; set; }

    public string RoutingKey { get; set; } = "";
}

/// <summary>How the node watches its sources (<c>gpm.alerts.watch</c>).</summary>
public sealed record WatchSettings(TimeSpan Interval, TimeSpan ClearAfter, TimeSpan RpcDownAfter, TimeSpan GasDegradedAfter, TimeSpan SigningBound, int SigningWindow);

/// <summary>The SSE stream's bounds (<c>gpm.alerts.stream</c>).</summary>
public sealed record StreamSettings(int MaxStreams, int Buffer, TimeSpan KeepAlive);

/// <summary>Every knob of alerts, SLOs and the balance metric, read once at start; a bad value stops the node.</summary>
public sealed record AlertSettings(AlertStoreSettings Store, WatchSettings Watch, StreamSettings Stream, SloBook Slos, TimeSpan QuoteLatencyBound, TimeSpan BalanceEvery)
{
    public static AlertSettings Load(AlertOptions options)
    {
        var root = ConfigurationFactory.ParseString(options.Hocon ?? "").WithFallback(PersistenceHocon.Load("alerts.hocon"));
        var a = root.GetConfig("gpm.alerts");
        var slo = root.GetConfig("gpm.slo");
        Uri? url = null;
        if (!string.IsNullOrWhiteSpace(options.Paging.Url)
            && !(Uri.TryCreate(options.Paging.Url, UriKind.Absolute, out url) && url.Scheme is "http" or "https"))
            throw new InvalidOperationException("Gpm:Alerts:Paging:Url must be an absolute http(s) URL.");
        if (url is not null && string.IsNullOrWhiteSpace(options.Paging.RoutingKey))
            throw new InvalidOperationException("Gpm:Alerts:Paging:RoutingKey is required when Gpm:Alerts:Paging:Url is set.");

        var store = new AlertStoreSettings
        {
            Limits = new AlertLimits(Positive(a.GetInt("max-unresolved"), "max-unresolved"), Math.Max(0, a.GetInt("max-resolved"))),
            RepeatsJournalEvery = Positive(a.GetTimeSpan("repeats-journal-every"), "repeats-journal-every"),
            Paging = new PagingSettings
            {
                Url = url,
                RoutingKey = options.Paging.RoutingKey,
                Source = a.GetString("paging.source"),
                MaxAttempts = Positive(a.GetInt("paging.max-attempts"), "paging.max-attempts"),
                FirstBackoff = Positive(a.GetTimeSpan("paging.first-backoff"), "paging.first-backoff"),
                MaxBackoff = Positive(a.GetTimeSpan("paging.max-backoff"), "paging.max-backoff"),
                AttemptTimeout = Positive(a.GetTimeSpan("paging.attempt-timeout"), "paging.attempt-timeout"),
                RetryEvery = Positive(a.GetTimeSpan("paging.retry-every"), "paging.retry-every"),
            },
        };
        var watch = new WatchSettings(Positive(a.GetTimeSpan("watch.interval"), "watch.interval"), a.GetTimeSpan("watch.clear-after"),
            a.GetTimeSpan("watch.rpc-down-after"), a.GetTimeSpan("watch.gas-degraded-after"), Positive(a.GetTimeSpan("watch.signing-bound"), "watch.signing-bound"),
            Positive(a.GetInt("watch.signing-window"), "watch.signing-window"));
        var stream = new StreamSettings(Positive(a.GetInt("stream.max-streams"), "stream.max-streams"), Positive(a.GetInt("stream.buffer"), "stream.buffer"),
            Positive(a.GetTimeSpan("stream.keep-alive"), "stream.keep-alive"));
        var slos = new SloBook(
        [
            SloBook.Defaults[0] with { Objective = slo.GetDouble("availability") },
            SloBook.Defaults[1] with { Objective = slo.GetDouble("quote-latency"), Description = $"quotes answered within {slo.GetTimeSpan("quote-latency-bound").TotalMilliseconds:0} ms" },
            SloBook.Defaults[2] with { Objective = slo.GetDouble("transaction-success") },
            SloBook.Defaults[3] with { Objective = slo.GetDouble("rebalance-success") },
        ], new BurnRule(slo.GetDouble("fast-burn"), slo.GetDouble("slow-burn"), slo.GetLong("min-events")));
        return new AlertSettings(store, watch, stream, slos, Positive(slo.GetTimeSpan("quote-latency-bound"), "gpm.slo.quote-latency-bound"),
            Positive(root.GetTimeSpan("gpm.metrics.balance-every"), "gpm.metrics.balance-every"));
    }

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new InvalidOperationException($"gpm.alerts.{name} must be positive, not {value}.");

    private static TimeSpan Positive(TimeSpan value, string name) =>
        value > TimeSpan.Zero ? value : throw new InvalidOperationException($"{name} must be positive, not {value}.");
}
