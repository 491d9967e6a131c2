using System.Globalization;
using Akka.Actor;
using GrandPaymaster.Actors.Dapps;
using GrandPaymaster.Actors.Market;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Domain.Alerts;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Market;
using GrandPaymaster.Domain.Pools;
using GrandPaymaster.Domain.Slo;
using GrandPaymaster.Node.Hosting;
using static GrandPaymaster.Domain.Alerts.AlertProtocol;

namespace GrandPaymaster.Node.Alerts;

/// <summary>What the watch reads on this node.</summary>
public sealed record WatchedSources(PoolModeDirectory Modes, ChainRpcDirectory Chains, GasMarketBoard Gas, SigningTimes Signing, SloBook Slos);

/// <summary>
/// This node's watch over its alert sources: every <see cref="WatchSettings.Interval"/> it reads the pool modes (SAFE_MODE), each
/// RPC endpoint's health, each gas source's verdict, the pools' signing time and the SLOs' burn, turns them into raises and
/// resolves (<see cref="AlertConditions"/>: raised after a source's grace, resolved after <see cref="WatchSettings.ClearAfter"/>
/// of health) and tells the alert store; frozen dApps come from the event stream (<see cref="DappFreezeChanged"/>). It also
/// feeds the transaction and rebalance SLOs from the event stream. Every node watches what it sees; the store de-duplicates.
/// </summary>
public sealed class AlertWatch : ReceiveActor, IWithTimers
{
    private const string Component = "alert-watch";
    private readonly WatchedSources _sources;
    private readonly WatchSettings _settings;
    private readonly TimeProvider _clock;
    private readonly IActorRef _store;
    private readonly AlertConditions _conditions;

    public AlertWatch(WatchedSources sources, WatchSettings settings, TimeProvider clock, IActorRef store)
    {
        _sources = sources;
        _settings = settings;
        _clock = clock;
        _store = store;
        _conditions = new AlertConditions(settings.ClearAfter);

        Receive<Tick>(_ => Watch());
        Receive<DappFreezeChanged>(OnFreeze);
        Receive<TransactionOutcome>(o => _sources.Slos.Record(SloBook.TransactionSuccess, o.Outcome == "settled", _clock.GetUtcNow()));
        Receive<RebalanceFinished>(r => _sources.Slos.Record(SloBook.RebalanceSuccess, r.Succeeded, r.At));
        // The store's answers (the alert, or no alert to resolve) need nothing more here.
        Receive<Alert>(_ => { });
        Receive<NoAlert>(_ => { });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor(WatchedSources sources, WatchSettings settings, TimeProvider clock, IActorRef store) =>
        Props.Create(() => new AlertWatch(sources, settings, clock, store));

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(DappFreezeChanged));
        Context.System.EventStream.Subscribe(Self, typeof(TransactionOutcome));
        Context.System.EventStream.Subscribe(Self, typeof(RebalanceFinished));
        Timers.StartPeriodicTimer("watch", Tick.Instance, _settings.Interval);
    }

    private void Watch()
    {
        var now = _clock.GetUtcNow();
        Apply(_conditions.Observe("safe-mode", SafeModes(), now), now);
        Apply(_conditions.Observe("rpc", RpcEndpoints(), now), now);
        Apply(_conditions.Observe("gas", GasSources(), now), now);
        Apply(_conditions.Observe("signing", Signing(), now), now);
        Apply(_conditions.Observe("slo", Slos(now), now), now);
    }

    private IEnumerable<AlertCondition> SafeModes() =>
        _sources.Chains.All.Select(c => (Chain: c, View: _sources.Modes.Get(new ChainId(c.ChainId))))
            .Where(x => x.View?.Mode == PoolMode.SafeMode)
            .Select(x => new AlertCondition(AlertKinds.SafeMode, ChainSubject(x.Chain.ChainId), AlertSeverity.Critical,
                $"The pool of chain {x.Chain.Name} ({x.Chain.ChainId}) is in SAFE_MODE since {x.View!.Since:O}: {x.View.Reason}"));

    private IEnumerable<AlertCondition> RpcEndpoints() =>
        _sources.Chains.All.SelectMany(c => c.Endpoints.Health
            .Where(h => h.State is Chain.Rpc.EndpointState.Open or Chain.Rpc.EndpointState.WrongChain)
            .Select(h => new AlertCondition(AlertKinds.RpcEndpointDown, h.Label, AlertSeverity.Warning,
                string.Create(CultureInfo.InvariantCulture,
                    $"RPC endpoint {h.Label} of chain {c.ChainId} is {(h.State == Chain.Rpc.EndpointState.Open ? "down (breaker open)" : "on the wrong chain")}; error rate {h.ErrorRate:P0}, last failure {h.LastFailureAt:O}"),
                _settings.RpcDownAfter)));

    private IEnumerable<AlertCondition> GasSources() =>
        _sources.Chains.All.SelectMany(c => _sources.Gas.Get(c.ChainId)?.Market?.Sources.Where(s => s.Verdict != SourceVerdict.Used)
            .Select(s => new AlertCondition(AlertKinds.GasSourceDegraded, s.Reading.Source, AlertSeverity.Warning,
                $"Gas source {s.Reading.Source} of chain {c.ChainId} is not in the median: {Verdict(s.Verdict)}", _settings.GasDegradedAfter)) ?? []);

    private IEnumerable<AlertCondition> Signing()
    {
        foreach (var chain in _sources.Signing.Chains)
            if (_sources.Signing.Recent(new ChainId(chain)) is { } recent && recent.Mean > _settings.SigningBound)
                yield return new AlertCondition(AlertKinds.SigningSlow, ChainSubject(chain), AlertSeverity.Warning,
                    string.Create(CultureInfo.InvariantCulture,
                        $"Signing on chain {chain} takes {recent.Mean.TotalMilliseconds:0.###} ms on average over the last {recent.Count} signatures; the bound is {_settings.SigningBound.TotalMilliseconds:0.###} ms"));
    }

    private IEnumerable<AlertCondition> Slos(DateTimeOffset now) =>
        _sources.Slos.Report(now).Where(r => r.FastBurn).Select(r => new AlertCondition(AlertKinds.SloBurning, r.Definition.Name, AlertSeverity.Critical,
            string.Create(CultureInfo.InvariantCulture,
                $"SLO {r.Definition.Name} ({r.Definition.Objective:P1} {r.Definition.Description}) burns its error budget fast: ×{r.BurnRate(SloBook.Hour):0.#} over 1 h, ×{r.BurnRate(SloBook.FiveMinutes):0.#} over 5 m, ×{r.BurnRate(SloBook.SixHours):0.#} over 6 h")));

    private void OnFreeze(DappFreezeChanged change)
    {
        var subject = change.DappId.Value;
        if (change.Frozen)
            _store.Tell(new RaiseAlert(AlertKinds.DappFrozen, change.Meta.Actor.StartsWith("operator:", StringComparison.Ordinal) ? AlertSeverity.Info : AlertSeverity.Warning,
                subject, $"dApp {subject} was frozen by {change.Meta.Actor} (rule {change.Rule}): {change.Evidence}",
                Meta.System(Component, "dApp frozen", change.Meta.At, change.Meta.CorrelationId)));
        else
            _store.Tell(new ResolveAlert(AlertKinds.DappFrozen, subject, change.Meta));
    }

    private void Apply(IReadOnlyList<AlertTransition> transitions, DateTimeOffset now)
    {
        foreach (var t in transitions)
        {
            var c = t.Condition;
            _store.Tell(t.Raise
                ? new RaiseAlert(c.Kind, c.Severity, c.Subject, c.Summary, Meta.System(Component, c.Summary, now))
                : new ResolveAlert(c.Kind, c.Subject, Meta.System(Component, $"healthy again for {_settings.ClearAfter.TotalSeconds:0.#} s", now)));
        }
    }

    private static string ChainSubject(long chainId) => "chain " + chainId.ToString(CultureInfo.InvariantCulture);

    private static string Verdict(SourceVerdict verdict) => verdict switch
    {
        SourceVerdict.Outlier => "an outlier, far from the other sources",
        SourceVerdict.OutOfBounds => "out of the sanity bounds",
        SourceVerdict.NotFresh => "not fresh",
        SourceVerdict.Failed => "failing",
        _ => verdict.ToString(),
    };

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
