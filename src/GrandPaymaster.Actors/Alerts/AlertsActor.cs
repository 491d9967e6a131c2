using System.Collections.Immutable;
using System.Globalization;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence;
using GrandPaymaster.Actors.Audit;
using GrandPaymaster.Domain.Alerts;
using GrandPaymaster.Domain.Common;
using static GrandPaymaster.Domain.Alerts.AlertProtocol;

namespace GrandPaymaster.Actors.Alerts;

/// <summary>The alert store's knobs (<c>gpm.alerts</c>) and where critical alerts are paged.</summary>
public sealed record AlertStoreSettings
{
    public AlertLimits Limits { get; init; } = new();

    /// <summary>Repeats are counted in memory and journaled (one write for all that changed) this often, and at each acknowledge and resolve.</summary>
    public TimeSpan RepeatsJournalEvery { get; init; } = TimeSpan.FromMinutes(1);

    public PagingSettings Paging { get; init; } = new();

    /// <summary>Pages sent at once, at most (the others wait for the next round).</summary>
    public int MaxPagesInFlight { get; init; } = 8;

    public int SnapshotEvery { get; init; } = 500;
}

/// <summary>Registry key of the alert store's singleton proxy.</summary>
public sealed class AlertsSingleton;

/// <summary>
/// The alert store (cluster singleton, persistence id <c>alerts</c>): raise, acknowledge and resolve are journaled with who and
/// why (<see cref="Meta"/>); a repeat of an unresolved alert only bumps its count in memory, journaled every
/// <see cref="AlertStoreSettings.RepeatsJournalEvery"/> and with the next acknowledge or resolve (a crash loses at most that
/// much of a count, never an alert). Critical alerts are paged once per raise (trigger) and once when resolved (resolve); a
/// page counts as sent only once <see cref="AlertPaged"/> is journaled, so a restarted singleton re-sends only a page the pager
/// had not taken (PagerDuty de-duplicates that by <c>dedup_key</c> too). Every change is told to every node (<see cref="AlertChanged"/>).
/// </summary>
public sealed class AlertsActor : AuditedPersistentActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly AlertStoreSettings _settings;
    private readonly IPager _pager;
    private readonly TimeProvider _clock;
    private readonly Action<ActorSystem, AlertChanged>? _publish;
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pagesInFlight = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pagesRefused = new(StringComparer.Ordinal);
    private AlertsState _state = AlertsState.Empty;

    public AlertsActor(AlertStoreSettings settings, IPager pager, TimeProvider clock, Action<ActorSystem, AlertChanged>? publish)
    {
        settings.Limits.Validate();
        _settings = settings;
        _pager = pager;
        _clock = clock;
        _publish = publish;

        Recover<SnapshotOffer>(o =>
        {
            if (o.Snapshot is AlertsState s) _state = s;
        });
        Recover<IAlertEvent>(e => _state = _state.Apply(e, _settings.Limits));
        Recover<RecoveryCompleted>(_ => PageOwed());

        Command<RaiseAlert>(OnRaise);
        Command<ResolveAlert>(c =>
        {
            var (reply, events) = _state.Resolve(c, _settings.Limits);
            Write(events, Sender, reply);
        });
        Command<AcknowledgeAlert>(c =>
        {
            var (reply, e) = _state.Acknowledge(c);
            Write(e is null ? [] : [e], Sender, reply);
        });
        Command<GetAlerts>(q => Sender.Tell(new AlertList(_state.List(q.State))));
        Command<JournalRepeats>(_ =>
        {
            var events = _state.RepeatsToJournal(_dirty, Meta.System("alerts", "repeats counted since the last write", _clock.GetUtcNow()));
            _dirty.Clear();
            Write(events, null, null);
        });
        Command<PageOutcome>(OnPageOutcome);
        Command<RetryPages>(_ => PageOwed());
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Snapshot of the alert store failed"));
    }

    public override string PersistenceId => "alerts";
    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor(AlertStoreSettings settings, IPager pager, TimeProvider clock, Action<ActorSystem, AlertChanged>? publish = null) =>
        Props.Create(() => new AlertsActor(settings, pager, clock, publish));

    protected override void PreStart()
    {
        base.PreStart();
        Timers.StartPeriodicTimer("repeats", JournalRepeats.Instance, _settings.RepeatsJournalEvery);
        Timers.StartPeriodicTimer("pages", RetryPages.Instance, _settings.Paging.RetryEvery);
    }

    private void OnRaise(RaiseAlert command)
    {
        var decision = _state.Raise(command, _settings.Limits);
        if (decision.Repeated is { } repeated)
        {
            _state = repeated;
            _dirty.Add(decision.Alert.Id);
            Sender.Tell(decision.Alert);
            Tell(decision.Alert, "repeat");
            return;
        }

        Write(decision.Events, Sender, null, decision.Alert.Id);
    }

    /// <summary>Journals the events as one write, applies them, then answers (with the alert as it now stands) and pages what is owed.</summary>
    private void Write(ImmutableArray<IAlertEvent> events, IActorRef? replyTo, IPaymasterMessage? reply, string? answerWith = null)
    {
        if (events.IsEmpty)
        {
            replyTo?.Tell(reply ?? new NoAlert(AlertsState.NotFound, "Nothing changed."));
            return;
        }

        var remaining = events.Length;
        PersistAll(events, e =>
        {
            _state = _state.Apply(e, _settings.Limits);
            if (LastSequenceNr % _settings.SnapshotEvery == 0) SaveSnapshot(_state);
            Told(e);
            if (--remaining > 0) return;
            var id = answerWith ?? (reply as Alert)?.Id;
            replyTo?.Tell(id is not null && _state.Find(id) is { } now ? now : reply ?? new NoAlert(AlertsState.NotFound, "Nothing changed."));
            PageOwed();
        });
    }

    private void Told(IAlertEvent e)
    {
        var (id, change) = e switch
        {
            AlertRaised r => (r.Alert.Id, "raise"),
            AlertAcknowledged a => (a.AlertId, "ack"),
            AlertResolved r => (r.AlertId, "resolve"),
            _ => (null, null),
        };
        if (id is null) return;
        if (change != "raise") _dirty.Remove(id);
        if (_state.Find(id) is { } alert)
        {
            if (alert.Severity == AlertSeverity.Critical || change == "raise")
                _log.Warning("Alert {0} {1}: {2} {3} {4}: {5}", alert.Id, change, AlertsState.Name(alert.Severity), alert.Kind, alert.Subject, alert.Summary);
            Tell(alert, change!);
        }
    }

    private void Tell(Alert alert, string change) => _publish?.Invoke(Context.System, new AlertChanged(alert, change));

    /// <summary>Sends every owed page that is not under way (a bounded number at once); each result comes back as <see cref="PageOutcome"/>.</summary>
    private void PageOwed()
    {
        if (!_pager.Enabled) return;
        foreach (var alert in _state.OwedPages)
        {
            if (_pagesInFlight.Count >= _settings.MaxPagesInFlight) return;
            var action = alert.OwesTrigger ? PageActions.Trigger : PageActions.Resolve;
            var key = $"{alert.Id}/{action}";
            if (_pagesRefused.Contains(key) || !_pagesInFlight.Add(key)) continue;
            var page = new PageEvent(action, alert.DedupKey, $"[{alert.Kind}] {alert.Subject}: {alert.Summary}", "critical",
                new Dictionary<string, string>
                {
                    ["alertId"] = alert.Id,
                    ["kind"] = alert.Kind,
                    ["subject"] = alert.Subject,
                    ["firstAt"] = alert.FirstAt.ToString("O", CultureInfo.InvariantCulture),
                    ["count"] = alert.Count.ToString(CultureInfo.InvariantCulture),
                }, alert.FirstAt);
            var id = alert.Id;
            _pager.SendAsync(page).PipeTo(Self, success: r => new PageOutcome(id, action, r),
                failure: e => new PageOutcome(id, action, new PageResult(false, false, 0, e.GetType().Name)));
        }
    }

    private void OnPageOutcome(PageOutcome outcome)
    {
        var key = $"{outcome.AlertId}/{outcome.Action}";
        if (outcome.Result.Delivered)
        {
            Persist(new AlertPaged(outcome.AlertId, outcome.Action, Meta.System("alerts", $"page {outcome.Action} delivered ({outcome.Result.Detail})", _clock.GetUtcNow())),
                e =>
                {
                    _state = _state.Apply(e, _settings.Limits);
                    _pagesInFlight.Remove(key);
                    PageOwed();
                });
            return;
        }

        _pagesInFlight.Remove(key);
        if (outcome.Result.Permanent)
        {
            // A refusal (a wrong routing key, say) does not heal by retrying; it is tried again after a restart.
            _pagesRefused.Add(key);
            _log.Error("Paging refused the {0} of alert {1} ({2}); not retried until the singleton restarts", outcome.Action, outcome.AlertId, outcome.Result.Detail);
        }
        else
        {
            _log.Warning("Paging the {0} of alert {1} failed after {2} attempt(s) ({3}); tried again within {4}", outcome.Action, outcome.AlertId,
                outcome.Result.Attempts, outcome.Result.Detail, _settings.Paging.RetryEvery);
        }
    }

    private sealed record PageOutcome(string AlertId, string Action, PageResult Result);

    private sealed class JournalRepeats
    {
        public static readonly JournalRepeats Instance = new();
    }

    private sealed class RetryPages
    {
        public static readonly RetryPages Instance = new();
    }
}

/// <summary>What a node does with the alert changes told to it (its SSE streams and metrics).</summary>
public interface IAlertListener
{
    void Changed(AlertChanged change);

    /// <summary>The store's unresolved alerts, read once when the node starts (changes told before take precedence).</summary>
    void Seed(IReadOnlyList<Alert> unresolved);
}

/// <summary>Wires the alert store singleton and this node's listener into an actor system.</summary>
public static class AlertsHosting
{
    public const string Topic = "gpm-alerts";

    /// <summary>Tells every node's listener (Distributed Pub/Sub; within this node no serialization).</summary>
    public static void Publish(ActorSystem system, AlertChanged change) =>
        DistributedPubSub.Get(system).Mediator.Tell(new Publish(Topic, change));

    public static AkkaConfigurationBuilder AddAlerts(this AkkaConfigurationBuilder builder, AlertStoreSettings settings, IPager pager, TimeProvider clock,
        IAlertListener listener, string role = "core") =>
        builder
            .WithSingleton<AlertsSingleton>("alerts", (_, _, _) => AlertsActor.PropsFor(settings, pager, clock, Publish), new ClusterSingletonOptions { Role = role })
            .WithActors((system, registry) => system.ActorOf(Props.Create(() => new Listener(listener, registry.Get<AlertsSingleton>())), "alerts-listener"));

    /// <summary>Forwards the topic to the node's listener, and seeds it once from the store.</summary>
    private sealed class Listener : ReceiveActor, IWithTimers
    {
        public Listener(IAlertListener listener, IActorRef store)
        {
            Receive<AlertChanged>(listener.Changed);
            Receive<SubscribeAck>(_ => { });
            Receive<Sync>(_ => store.Ask<AlertList>(new GetAlerts(null), TimeSpan.FromSeconds(5))
                .PipeTo(Self, failure: _ => Sync.Again));
            Receive<SyncAgain>(_ => Timers.StartSingleTimer("sync", Sync.Instance, TimeSpan.FromSeconds(10)));
            Receive<AlertList>(list => listener.Seed(list.Alerts.Where(a => a.IsUnresolved).ToArray()));
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart()
        {
            DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(Topic, Self));
            Timers.StartSingleTimer("sync", Sync.Instance, TimeSpan.FromSeconds(2));
        }

        private sealed class Sync
        {
            public static readonly Sync Instance = new();
            public static readonly SyncAgain Again = new();
        }

        private sealed class SyncAgain;
    }
}
