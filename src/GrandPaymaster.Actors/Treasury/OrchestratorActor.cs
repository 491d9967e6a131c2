using System.Collections.Immutable;
using System.Globalization;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence;
using GrandPaymaster.Actors.Alerts;
using GrandPaymaster.Actors.Audit;
using GrandPaymaster.Actors.Persistence;
using GrandPaymaster.Domain.Alerts;
using GrandPaymaster.Domain.Common;
using Address = GrandPaymaster.Domain.Common.Address;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Slo;
using GrandPaymaster.Domain.Treasury;
using static GrandPaymaster.Domain.Treasury.OrchestratorProtocol;
using GetTopUp = GrandPaymaster.Domain.Treasury.VaultProtocol.GetTopUp;
using TopUpCompleted = GrandPaymaster.Domain.Treasury.VaultProtocol.TopUpCompleted;
using TopUpRequest = GrandPaymaster.Domain.Treasury.VaultProtocol.TopUpRequest;
using TopUpSubmitted = GrandPaymaster.Domain.Treasury.VaultProtocol.TopUpSubmitted;
using TopUpUnknown = GrandPaymaster.Domain.Treasury.VaultProtocol.TopUpUnknown;
using VaultTopUpFailed = GrandPaymaster.Domain.Treasury.VaultProtocol.TopUpFailed;

namespace GrandPaymaster.Actors.Treasury;

/// <summary>Registry key of the Orchestrator singleton's proxy.</summary>
public sealed class OrchestratorSingleton;

/// <summary>What the Orchestrator talks to; everything but the settings is optional (tests leave out what they do not need).</summary>
public sealed record OrchestratorDependencies(TreasurySettings Settings, IPager Pager, TimeProvider Clock, Random Jitter)
{
    /// <summary>The Vault singleton's proxy (null: not reachable from here; needs wait in the queue).</summary>
    public Func<IActorContext, IActorRef?> Vault { get; init; } = _ => null;

    /// <summary>The alert store's proxy (<c>topup_failing</c>); null: no alerts.</summary>
    public Func<IActorContext, IActorRef?> Alerts { get; init; } = _ => null;

    /// <summary>Where balances are read (null: only readings told to the Orchestrator count).</summary>
    public ITreasuryChains? Chains { get; init; }

    /// <summary>Tells every node the treasury's view (metrics); null: nobody.</summary>
    public Action<ActorSystem, TreasuryView>? Publish { get; init; }

    /// <summary>Subscribes the Orchestrator to the pools' balance hints (Distributed Pub/Sub in a node).</summary>
    public Action<ActorSystem, IActorRef>? SubscribeHints { get; init; }
}

/// <summary>
/// The Orchestrator (cluster singleton <c>orchestrator</c> on role <c>core</c>, persistence id <c>orchestrator</c>) keeps the pool
/// wallets filled from the Vault. It runs on the <see cref="RebalanceMailbox"/>: Critical readings before Warning before Normal ones,
/// and the journal's own replies before all of them. Decisions are <see cref="OrchestratorState"/>'s: one need per wallet, one top-up
/// in flight per chain, a Critical superseding a queued less urgent need, retries with backoff and jitter, one page per escalation.
/// Every step is an event (<c>Meta</c> <c>system:orchestrator</c>); a <see cref="TopUpRequest"/> leaves only after its
/// <see cref="TopUpStarted"/> (with the request id) is journaled, so after a crash or a failover the Orchestrator asks the Vault
/// about that id (<see cref="GetTopUp"/>) instead of requesting the need again. Balances are read by a child
/// (<see cref="BalanceReader"/>): no RPC in this actor's loop. Each finished top-up is published as <see cref="RebalanceFinished"/>
/// (the rebalance SLO).
/// </summary>
public sealed class OrchestratorActor : AuditedPersistentActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly OrchestratorDependencies _deps;
    private readonly TreasurySettings _settings;
    private readonly Dictionary<string, DateTimeOffset> _lastContact = new(StringComparer.Ordinal);
    private readonly HashSet<long> _starting = [];
    private readonly HashSet<string> _pagesInFlight = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pagesRefused = new(StringComparer.Ordinal);
    private OrchestratorState _state = OrchestratorState.Empty;
    private SpendBook _book = SpendBook.Empty;
    private IActorRef? _vault;
    private IActorRef? _alerts;
    private IActorRef? _reader;
    private bool _dirty = true;

    public OrchestratorActor(OrchestratorDependencies deps)
    {
        _deps = deps;
        _settings = deps.Settings.Checked();

        Recover<SnapshotOffer>(o =>
        {
            if (o.Snapshot is OrchestratorState s) _state = s;
        });
        Recover<IOrchestratorEvent>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ => AfterRecovery());

        Command<BalanceObserved>(OnObserved);
        Command<PoolBalanceChanged>(hint => _reader?.Forward(hint));
        Command<GetTreasury>(_ => Sender.Tell(View()));
        Command<TopUpSubmitted>(r =>
        {
            Contact(r.RequestId);
            Write(_state.Broadcast(r.RequestId, r.TxHash, Now));
        });
        Command<TopUpCompleted>(r =>
        {
            _lastContact.Remove(r.RequestId);
            Write(_state.Complete(r.RequestId, r.TxHash, r.Amount, Now));
        });
        Command<VaultTopUpFailed>(r =>
        {
            _lastContact.Remove(r.RequestId);
            Write(_state.Fail(r.RequestId, r.Code, r.Reason, r.Retryable, Now, _deps.Jitter.NextDouble(), _settings));
        });
        Command<TopUpUnknown>(r =>
        {
            // The Vault never took this request (it was lost before reaching it): the same id again, which it pays at most once.
            if (_state.ByRequest(r.RequestId) is not { } need) return;
            if (need.TxHash is { } sent)
            {
                // The Vault did take it (it told us the transfer's hash) and has forgotten it since: asking again could pay twice.
                // A human looks; the need stays in flight and is not requested again.
                _log.Error("The vault no longer knows top-up {0}, whose transfer {1} it had broadcast: not requested again; check the transfer on chain",
                    r.RequestId, sent);
                return;
            }

            _log.Warning("The vault does not know top-up {0}: requesting it again under the same id", r.RequestId);
            Request(need);
        });
        Command<Tick>(_ => OnTick());
        Command<PageOutcome>(OnPageOutcome);
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Snapshot of the orchestrator failed; recovery replays more events"));
    }

    public override string PersistenceId => "orchestrator";
    public ITimerScheduler Timers { get; set; } = null!;

    private DateTimeOffset Now => _deps.Clock.GetUtcNow();

    /// <summary>The Orchestrator's props, on the rebalance mailbox (<c>hocon/mailboxes.hocon</c> must be in the system's configuration).</summary>
    public static Props PropsFor(OrchestratorDependencies deps) => Props.Create(() => new OrchestratorActor(deps)).WithMailbox(RebalanceMailbox.Path);

    protected override void PreStart()
    {
        base.PreStart();
        _vault = _deps.Vault(Context);
        _alerts = _deps.Alerts(Context);
        if (_deps.Chains is { } chains) _reader = Context.ActorOf(BalanceReader.PropsFor(chains, _settings, _deps.Clock, Self), "balances");
        _deps.SubscribeHints?.Invoke(Context.System, Self);
        Timers.StartPeriodicTimer("tick", Tick.Instance, _settings.Tick);
    }

    private void AfterRecovery()
    {
        // Requests journaled as started and not answered: ask where they stand (never request the need again).
        foreach (var need in _state.InFlight)
        {
            _log.Info("Top-up {0} of chain {1} was in flight: asking the vault where it stands", need.RequestId, need.ChainId);
            Ask(need.RequestId!);
        }

        PageOwed();
        Pump();
    }

    private void OnObserved(BalanceObserved o)
    {
        if (_book.Latest(o.ChainId, o.Wallet) is null && _book.WalletsOf(o.ChainId) >= _settings.MaxWalletsPerChain)
        {
            _log.Warning("Chain {0} already has {1} wallets watched; {2} is ignored", o.ChainId, _settings.MaxWalletsPerChain, o.Wallet);
            return;
        }

        // The priority mailbox hands a newer, more urgent reading over before an older one still queued: an older reading must not
        // undo what a newer one decided (cancel a Critical need, say).
        if (_book.Latest(o.ChainId, o.Wallet) is { } latest && o.At < latest.At) return;
        _book = _book.Observe(o.ChainId, o.Wallet, new BalanceSample(o.At, o.Balance), _settings.SpendWindow, _settings.MaxSamples);
        _dirty = true;
        Write(_state.Observe(o.ChainId, o.Wallet, o.Balance, _settings.ThresholdsOf(o.ChainId.Value), NewNeedId(), Now));
    }

    /// <summary>Journals the events as one write, applies each and runs its effect, then starts what is due and pages what is owed.</summary>
    private void Write(ImmutableArray<IOrchestratorEvent> events)
    {
        if (events.IsEmpty)
        {
            Pump();
            return;
        }

        var remaining = events.Length;
        PersistAll(events, e =>
        {
            var before = _state;
            _state = _state.Apply(e);
            _dirty = true;
            Effect(e, before);
            if (LastSequenceNr % _settings.SnapshotEvery == 0) SaveSnapshot(_state);
            if (--remaining > 0) return;
            Pump();
            PageOwed();
        });
    }

    /// <summary>What an event, once journaled, sets going (never on recovery).</summary>
    private void Effect(IOrchestratorEvent e, OrchestratorState before)
    {
        switch (e)
        {
            case TopUpStarted s when _state.Needs.TryGetValue(s.NeedId, out var need):
                _starting.Remove(need.ChainId.Value);
                Request(need);
                break;
            case TopUpSucceeded s:
                _log.Info("Top-up {0} succeeded: {1} ({2})", s.RequestId, s.Amount, s.TxHash);
                Context.System.EventStream.Publish(new RebalanceFinished(ChainOf(before, s.NeedId), true, s.Meta.At));
                break;
            case TopUpFailed f:
                _log.Warning("Top-up {0} failed ({1}: {2}); {3} in a row, retried at {4:O}", f.RequestId, f.Code, f.Reason, f.Failures, f.NextAttemptAt);
                Context.System.EventStream.Publish(new RebalanceFinished(ChainOf(before, f.NeedId), false, f.Meta.At));
                if (_state.NextRetryAt is { } due) Timers.StartSingleTimer("retry", Tick.Instance, Max(due - Now, TimeSpan.FromMilliseconds(1)));
                break;
            case TopUpEscalated x:
                _log.Error("Top-ups of chain {0} keep failing: {1}", x.ChainId, x.Summary);
                _alerts?.Tell(new AlertProtocol.RaiseAlert(AlertKinds.TopUpFailing, AlertSeverity.Warning, OrchestratorState.SubjectOf(x.ChainId), x.Summary, x.Meta));
                break;
            case TopUpRecovered r:
                _log.Info("Top-ups of chain {0} succeed again", r.ChainId);
                _alerts?.Tell(new AlertProtocol.ResolveAlert(AlertKinds.TopUpFailing, OrchestratorState.SubjectOf(r.ChainId), r.Meta));
                break;
        }
    }

    private static long ChainOf(OrchestratorState before, string needId) => before.Needs.TryGetValue(needId, out var need) ? need.ChainId.Value : 0;

    /// <summary>Starts every due need (one per chain): its <see cref="TopUpStarted"/> is journaled first, the request follows in <see cref="Effect"/>.</summary>
    private void Pump()
    {
        if (_vault is null) return;
        var now = Now;
        var started = new List<IOrchestratorEvent>();
        foreach (var need in _state.Due(now))
        {
            if (!_starting.Add(need.ChainId.Value)) continue;
            var thresholds = _settings.ThresholdsOf(need.ChainId.Value);
            var amount = _book.Latest(need.ChainId, need.Wallet) is { } latest ? thresholds.ShortfallOf(latest.Balance) : need.Amount;
            if (amount.Value.IsZero)
            {
                _starting.Remove(need.ChainId.Value);
                started.Add(new TopUpCancelled(need.NeedId, Meta.System(OrchestratorState.Component, $"wallet {need.Wallet} is at its target: nothing to top up", now, need.NeedId)));
                continue;
            }

            started.Add(_state.Start(need, amount, now));
        }

        if (started.Count > 0) Write([.. started]);
    }

    private void Request(RebalanceNeed need)
    {
        if (_vault is null || need.RequestId is null) return;
        Contact(need.RequestId);
        _vault.Tell(new TopUpRequest(need.RequestId, need.ChainId, need.Wallet, need.Amount, need.Priority,
            Meta.System(OrchestratorState.Component, $"{OrchestratorState.Name(need.Priority)} top-up of pool wallet {need.Wallet} to target", Now, need.NeedId)));
    }

    private void Ask(string requestId)
    {
        Contact(requestId);
        _vault?.Tell(new GetTopUp(requestId));
    }

    private void Contact(string requestId) => _lastContact[requestId] = Now;

    private void OnTick()
    {
        // The Vault's proxy may be registered after this singleton started (hosting order): look again until it is there.
        _vault ??= _deps.Vault(Context);
        _alerts ??= _deps.Alerts(Context);
        var now = Now;
        foreach (var need in _state.InFlight)
            if (!_lastContact.TryGetValue(need.RequestId!, out var last) || now - last >= _settings.ReplyTimeout)
                Ask(need.RequestId!);
        foreach (var gone in _lastContact.Keys.Where(id => _state.ByRequest(id) is null).ToArray()) _lastContact.Remove(gone);
        Pump();
        PageOwed();
        if (_dirty && _deps.Publish is { } publish)
        {
            _dirty = false;
            publish(Context.System, View());
        }
    }

    private TreasuryView View() => TreasuryViews.Build(_state, _book, _settings, Now, _vault is not null);

    /// <summary>Sends each owed page not under way; a delivered one is journaled (<see cref="PageSent"/>) before it counts as sent.</summary>
    private void PageOwed()
    {
        if (!_deps.Pager.Enabled) return;
        foreach (var (escalation, action) in _state.OwedPages)
        {
            var key = $"{escalation.ChainId.Value}/{action}";
            if (_pagesRefused.Contains(key) || !_pagesInFlight.Add(key)) continue;
            var page = new PageEvent(action, escalation.DedupKey, $"[{AlertKinds.TopUpFailing}] {escalation.Summary}", _settings.PageSeverity,
                new Dictionary<string, string>
                {
                    ["chainId"] = escalation.ChainId.ToString(),
                    ["reason"] = AlertKinds.TopUpFailing,
                    ["since"] = escalation.Since.ToString("O", CultureInfo.InvariantCulture),
                    ["queue"] = string.Join(", ", _state.Needs.Values.Where(n => n.ChainId == escalation.ChainId)
                        .Select(n => $"{n.Wallet} {OrchestratorState.Name(n.Priority)} {n.Amount} failures={n.Failures}")),
                }, escalation.Since);
            var chain = escalation.ChainId;
            var dedup = escalation.DedupKey;
            _deps.Pager.SendAsync(page).PipeTo(Self, success: r => new PageOutcome(chain, action, dedup, r),
                failure: e => new PageOutcome(chain, action, dedup, new PageResult(false, false, 0, e.GetType().Name)));
        }
    }

    private void OnPageOutcome(PageOutcome outcome)
    {
        var key = $"{outcome.ChainId.Value}/{outcome.Action}";
        if (!outcome.Result.Delivered)
        {
            _pagesInFlight.Remove(key);
            if (outcome.Result.Permanent) _pagesRefused.Add(key);
            _log.Warning("Paging the {0} of chain {1}'s top-up failure failed ({2}); {3}", outcome.Action, outcome.ChainId, outcome.Result.Detail,
                outcome.Result.Permanent ? "not retried until the singleton restarts" : "tried again at the next tick");
            return;
        }

        Persist(new PageSent(outcome.ChainId, outcome.Action, outcome.DedupKey,
            Meta.System(OrchestratorState.Component, $"page {outcome.Action} delivered ({outcome.Result.Detail})", Now, outcome.DedupKey)), e =>
        {
            _state = _state.Apply(e);
            _pagesInFlight.Remove(key);
            _dirty = true;
            PageOwed();
        });
    }

    private static string NewNeedId() => "need-" + Guid.NewGuid().ToString("N")[..16];

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private sealed record PageOutcome(ChainId ChainId, string Action, string DedupKey, PageResult Result);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}

/// <summary>Wires the Orchestrator singleton and its proxy (<c>IRequiredActor&lt;OrchestratorSingleton&gt;</c>) into an actor system.</summary>
public static class OrchestratorHosting
{
    /// <summary>The Distributed Pub/Sub topic of the pools' balance hints and of the treasury's views.</summary>
    public const string HintTopic = "gpm-pool-balance";

    public const string ViewTopic = "gpm-treasury";

    /// <summary>A pool tells the Orchestrator (wherever it runs) that its wallets' balances changed.</summary>
    public static void HintBalanceChanged(ActorSystem system, ChainId chain) =>
        DistributedPubSub.Get(system).Mediator.Tell(new Publish(HintTopic, new PoolBalanceChanged(chain)));

    public static void SubscribeHints(ActorSystem system, IActorRef orchestrator) =>
        DistributedPubSub.Get(system).Mediator.Tell(new Subscribe(HintTopic, orchestrator));

    public static void PublishView(ActorSystem system, TreasuryView view) =>
        DistributedPubSub.Get(system).Mediator.Tell(new Publish(ViewTopic, view));

    /// <summary>
    /// The singleton on <paramref name="role"/> nodes, on the rebalance mailbox (<c>hocon/mailboxes.hocon</c> is added here), and
    /// this node's listener of the treasury's views (<paramref name="onView"/>: the metrics).
    /// </summary>
    public static AkkaConfigurationBuilder AddOrchestrator(this AkkaConfigurationBuilder builder, Func<IActorRegistry, OrchestratorDependencies> deps,
        Action<TreasuryView>? onView = null, string role = "core")
    {
        builder.AddHocon(PersistenceHocon.Load("mailboxes.hocon"), HoconAddMode.Append);
        builder.WithSingleton<OrchestratorSingleton>("orchestrator", (_, registry, _) => OrchestratorActor.PropsFor(deps(registry)),
            new ClusterSingletonOptions { Role = role });
        if (onView is not null)
            builder.WithActors((system, _) => system.ActorOf(Props.Create(() => new ViewListener(onView)), "treasury-listener"));
        return builder;
    }

    private sealed class ViewListener : ReceiveActor
    {
        public ViewListener(Action<TreasuryView> onView)
        {
            Receive<TreasuryView>(onView);
            Receive<SubscribeAck>(_ => { });
        }

        protected override void PreStart() => DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(ViewTopic, Self));
    }
}
