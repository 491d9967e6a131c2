using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Dapps;
using GrandPaymaster.Actors.Market;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Domain.Market;
using GrandPaymaster.Node.Hosting;
using Prometheus;

namespace GrandPaymaster.Node.Observability;

/// <summary>
/// The node's Prometheus metrics at <c>/metrics</c> (prometheus-net; names in Prometheus style, <c>gpm_</c> prefix): dApp API
/// answers and quote latency from the HTTP pipeline, transaction outcomes and execute→settle latency from the dApp entities'
/// event stream, and, read at each scrape, every pool's mode and every gas source's health.
/// </summary>
public sealed class PaymasterMetrics
{
    public PaymasterMetrics()
    {
        var metrics = Metrics.WithCustomRegistry(Registry);
        Requests = metrics.CreateCounter("gpm_api_requests_total",
        "Answers of the dApp API by route and HTTP status.", new CounterConfiguration { LabelNames = ["route", "status"] });

        QuoteDuration = metrics.CreateHistogram("gpm_quote_duration_seconds",
        "Time to answer POST /v1/quotes (any status).", new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });

        Transactions = metrics.CreateCounter("gpm_transactions_total",
        "Sponsored transactions by chain and outcome (settled, reverted, released), counted when journaled on this node.",
        new CounterConfiguration { LabelNames = ["chain", "outcome"] });

        ExecuteToSettle = metrics.CreateHistogram("gpm_execute_to_settle_seconds",
        "Time from the hold to the settlement or release of a sponsored transaction.",
        new HistogramConfiguration { LabelNames = ["chain"], Buckets = Histogram.ExponentialBuckets(0.05, 2, 14) });

        PoolMode = metrics.CreateGauge("gpm_pool_mode",
        "1 for the mode each chain's pool is in (normal, safe_mode, paused, disabled), as this node sees it.",
        new GaugeConfiguration { LabelNames = ["chain", "mode"] });

        JournalWrite = metrics.CreateHistogram("gpm_journal_write_seconds",
        "Journal write latency on this node: from an entity's Persist call to its handler (the write confirmed), one observation per write.",
        new HistogramConfiguration { Buckets = Actors.Audit.JournalWriteLatency.Buckets });

        GasSourceUp = metrics.CreateGauge("gpm_gas_source_used",
        "1 when the gas source's last answer was used in the chain's median, 0 otherwise (failed, stale, outlier, out of bounds).",
        new GaugeConfiguration { LabelNames = ["chain", "source"] });

        PoolBalance = metrics.CreateGauge("gpm_pool_balance_wei",
        "Each pool worker's native balance in wei as last read from its chain (display only; a double loses the last digits of large values).",
        new GaugeConfiguration { LabelNames = ["chain", "worker"] });

        AlertsOpen = metrics.CreateGauge("gpm_alerts_open",
        "Unresolved alerts (open or acknowledged) by severity, as this node was told by the alert store.",
        new GaugeConfiguration { LabelNames = ["severity"] });

        SloBurnRate = metrics.CreateGauge("gpm_slo_burn_rate",
        "Error-budget burn rate of each SLO over each window (1: spending exactly the budget), counted on this node since it started; absent: no events.",
        new GaugeConfiguration { LabelNames = ["slo", "window"] });

        PoolRunway = metrics.CreateGauge("gpm_pool_runway_seconds",
        "Each chain's runway: the shortest time to empty of its pool wallets at their spend rate over the treasury's window (absent: none is spending).",
        new GaugeConfiguration { LabelNames = ["chain"] });

        RebalanceQueue = metrics.CreateGauge("gpm_rebalance_queue",
        "Top-ups queued (not yet requested from the vault) by priority, as the Orchestrator last published them.",
        new GaugeConfiguration { LabelNames = ["priority"] });

        Rebalances = metrics.CreateCounter("gpm_rebalance_total",
        "Finished top-up attempts by chain and outcome (succeeded, failed), counted on the node that runs the Orchestrator.",
        new CounterConfiguration { LabelNames = ["chain", "outcome"] });

        SloEvents = metrics.CreateGauge("gpm_slo_events",
        "Events of each SLO in each window on this node, good or bad.",
        new GaugeConfiguration { LabelNames = ["slo", "window", "result"] });
    }

    /// <summary>This node's own registry (several nodes in one test process must not share counters).</summary>
    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    private Counter Requests { get; }
    private Histogram QuoteDuration { get; }
    private Counter Transactions { get; }
    private Histogram ExecuteToSettle { get; }
    private Gauge PoolMode { get; }
    private Gauge GasSourceUp { get; }
    private Histogram JournalWrite { get; }
    private Gauge PoolBalance { get; }
    private Gauge AlertsOpen { get; }
    private Gauge SloBurnRate { get; }
    private Gauge SloEvents { get; }
    private Gauge PoolRunway { get; }
    private Gauge RebalanceQueue { get; }
    private Counter Rebalances { get; }

    /// <summary>The SLO book the dApp API answers are counted in (set once at start by <see cref="ObserveAlertsAndSlos"/>).</summary>
    private volatile Domain.Slo.SloBook? _slos;
    private TimeProvider _clock = TimeProvider.System;
    private long _quoteBoundTicks;

    /// <summary>Counts every dApp API answer and times quotes.</summary>
    public void UseApiMetrics(IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments("/v1"))
            {
                await next();
                return;
            }

            var quote = HttpMethods.IsPost(context.Request.Method) && context.Request.Path.Equals("/v1/quotes");
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            using (quote ? QuoteDuration.NewTimer() : null)
                await next();
            Requests.WithLabels(RouteOf(context), context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
            if (_slos is not { } slos) return;
            var now = _clock.GetUtcNow();
            slos.Record(Domain.Slo.SloBook.Availability, context.Response.StatusCode < 500, now);
            if (quote) slos.Record(Domain.Slo.SloBook.QuoteLatency, System.Diagnostics.Stopwatch.GetElapsedTime(started).Ticks < _quoteBoundTicks, now);
        });

    /// <summary>Pool modes and gas sources are read from this node's boards when Prometheus scrapes.</summary>
    public void ObserveBoards(PoolModeDirectory modes, GasMarketBoard gas, ChainRpcDirectory chains) =>
        Registry.AddBeforeCollectCallback(() =>
        {
            foreach (var chain in chains.All)
            {
                var id = chain.ChainId.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var mode = modes.Get(new Domain.Common.ChainId(chain.ChainId))?.Mode;
                foreach (var each in Enum.GetValues<Domain.Pools.PoolMode>())
                    PoolMode.WithLabels(id, ModeName(each)).Set(mode == each ? 1 : 0);
                if (gas.Get(chain.ChainId)?.Market is { } market)
                    foreach (var source in market.Sources)
                        GasSourceUp.WithLabels(id, source.Reading.Source).Set(source.Verdict == SourceVerdict.Used ? 1 : 0);
            }
        });

    /// <summary>
    /// Counts the dApp API's answers into the availability and quote-latency SLOs from now on, and reads at each scrape the pool
    /// balances, the unresolved alerts and the SLOs' burn rates.
    /// </summary>
    public void ObserveAlertsAndSlos(Domain.Slo.SloBook slos, TimeProvider clock, TimeSpan quoteLatencyBound, Alerts.AlertStreamHub alerts, PoolBalances balances)
    {
        _clock = clock;
        _quoteBoundTicks = quoteLatencyBound.Ticks;
        _slos = slos;
        Registry.AddBeforeCollectCallback(() =>
        {
            foreach (var ((chain, worker), wei) in balances.Latest)
                PoolBalance.WithLabels(chain.ToString(System.Globalization.CultureInfo.InvariantCulture), worker).Set((double)wei);
            foreach (var (severity, count) in alerts.UnresolvedBySeverity())
                AlertsOpen.WithLabels(Domain.Alerts.AlertsState.Name(severity)).Set(count);
            foreach (var report in slos.Report(clock.GetUtcNow()))
            foreach (var window in Domain.Slo.SloBook.Reported)
            {
                var figures = report.Windows[window];
                SloEvents.WithLabels(report.Definition.Name, window, "good").Set(figures.Good);
                SloEvents.WithLabels(report.Definition.Name, window, "bad").Set(figures.Total - figures.Good);
                if (report.BurnRate(window) is { } burn) SloBurnRate.WithLabels(report.Definition.Name, window).Set(burn);
                else SloBurnRate.RemoveLabelled(report.Definition.Name, window);
            }
        });
    }

    /// <summary>Runway per chain and the queue per priority, read at each scrape from the Orchestrator's last published view.</summary>
    public void ObserveTreasury(Treasury.TreasuryBoard board, ChainRpcDirectory chains) =>
        Registry.AddBeforeCollectCallback(() =>
        {
            if (board.Latest is not { } view) return;
            foreach (var chain in chains.All)
            {
                var id = chain.ChainId.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (view.RunwayOf(new Domain.Common.ChainId(chain.ChainId)) is { } runway) PoolRunway.WithLabels(id).Set(runway);
                else PoolRunway.RemoveLabelled(id);
            }

            foreach (var priority in Enum.GetValues<Domain.Treasury.RebalancePriority>())
                RebalanceQueue.WithLabels(Domain.Treasury.OrchestratorState.Name(priority)).Set(view.Queue.Count(n => n.Priority == priority));
        });

    /// <summary>Counts the Orchestrator's finished top-ups (<see cref="Domain.Slo.RebalanceFinished"/> on this node's event stream).</summary>
    public void AddRebalanceMetrics(AkkaConfigurationBuilder builder) =>
        builder.WithActors((system, _) => system.ActorOf(Props.Create(() => new RebalanceCounter(this)), "rebalance-metrics"));

    private sealed class RebalanceCounter : ReceiveActor
    {
        public RebalanceCounter(PaymasterMetrics metrics) =>
            Receive<Domain.Slo.RebalanceFinished>(r => metrics.Rebalances
                .WithLabels(r.ChainId.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Succeeded ? "succeeded" : "failed").Inc());

        protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(Domain.Slo.RebalanceFinished));
    }

    /// <summary>Counts transaction outcomes told on the event stream by this node's dApp entities.</summary>
    public void AddTransactionMetrics(AkkaConfigurationBuilder builder) =>
        builder.WithActors((system, _) => system.ActorOf(Props.Create(() => new OutcomeCounter(this)), "transaction-metrics"));

    /// <summary>
    /// Journal write latency: the entities count it lock-free in the node's audit log (no message per write); each scrape takes
    /// what was counted since the last one, bucket by bucket with the bucket's exact mean, so counts and sum stay exact.
    /// </summary>
    public void AddJournalMetrics(AkkaConfigurationBuilder builder) =>
        builder.AddStartup((system, _) =>
        {
            var latency = Actors.Audit.AuditLog.Get(system).WriteLatency;
            Registry.AddBeforeCollectCallback(() =>
            {
                foreach (var (count, mean) in latency.Drain()) JournalWrite.Observe(mean, count);
            });
        });

    private void Count(TransactionOutcome o)
    {
        var chain = o.ChainId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Transactions.WithLabels(chain, o.Outcome).Inc();
        ExecuteToSettle.WithLabels(chain).Observe(Math.Max(0, o.ExecuteToSettle.TotalSeconds));
    }

    private static string RouteOf(HttpContext context) =>
        (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";

    private static string ModeName(Domain.Pools.PoolMode mode) => mode switch
    {
        Domain.Pools.PoolMode.SafeMode => "safe_mode",
        _ => mode.ToString().ToLowerInvariant(),
    };

    private sealed class OutcomeCounter : ReceiveActor
    {
        public OutcomeCounter(PaymasterMetrics metrics)
        {
            Receive<TransactionOutcome>(metrics.Count);
        }

        protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(TransactionOutcome));
    }
}
