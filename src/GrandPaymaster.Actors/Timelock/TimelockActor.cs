using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence;
using GrandPaymaster.Actors.Audit;
using GrandPaymaster.Actors.Persistence;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Timelock;
using static GrandPaymaster.Domain.Timelock.TimelockProtocol;

namespace GrandPaymaster.Actors.Timelock;

/// <summary>Registry key for the timelock singleton's proxy.</summary>
public sealed class TimelockSingleton;

/// <summary>
/// The one persistent timelock (cluster singleton, persistence id <c>timelock</c>): critical changes scheduled with an eta,
/// listed, cancelled, executed once after the eta (the edge runs the kind's handler between a claim and its completion), and
/// expired when nobody executed them within the execution window. Every change of the list is an event with who and why;
/// each answer goes out after its event is written. Decisions are <see cref="TimelockState"/>'s.
/// </summary>
public sealed class TimelockActor : AuditedPersistentActor, IWithTimers
{
    private const int SnapshotEvery = 500;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TimelockPolicy _policy;
    private readonly TimeProvider _clock;
    private TimelockState _state = TimelockState.Empty;

    public TimelockActor(TimelockPolicy policy, TimeProvider clock)
    {
        _policy = policy;
        _clock = clock;
        Recover<SnapshotOffer>(o =>
        {
            if (o.Snapshot is TimelockState s) _state = s;
        });
        Recover<ITimelockEvent>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ => _state = _state.AfterRecovery());

        Command<ScheduleChange>(c => Decide(_state.Decide(c, Now, _policy)));
        Command<CancelChange>(c => Decide(_state.Decide(c, Now)));
        Command<CompleteExecution>(c => Decide(_state.Decide(c, Now)));
        Command<FailExecution>(c => Decide(_state.Decide(c, Now)));
        Command<ClaimExecution>(c =>
        {
            var (reply, state) = _state.Claim(c, Now, _policy);
            _state = state;
            Sender.Tell(reply);
        });
        Command<GetChanges>(c => Sender.Tell(new Changes(_state.List(c.Status))));
        Command<Expire>(_ =>
        {
            var now = Now;
            var expired = _state.ExpiredAt(now).Take(100)
                .Select(c => new ChangeExpired(c.Id, Meta.System("timelock", $"not executed within {_policy.ExecutionWindow} after its eta {c.Eta:O}", now, c.Id)))
                .ToArray();
            if (expired.Length > 0) PersistAll(expired, Applied);
        });
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Snapshot of the timelock failed; recovery replays more events"));
    }

    public override string PersistenceId => "timelock";
    public ITimerScheduler Timers { get; set; } = null!;

    private DateTimeOffset Now => _clock.GetUtcNow();

    public static Props PropsFor(TimelockPolicy policy, TimeProvider clock) => Props.Create(() => new TimelockActor(policy, clock));

    protected override void PreStart()
    {
        base.PreStart();
        Timers.StartPeriodicTimer("expire", Expire.Instance, TimeSpan.FromSeconds(1));
    }

    private void Decide<TEvent>((IPaymasterMessage Reply, TEvent? Event) decision) where TEvent : class, ITimelockEvent
    {
        if (decision.Event is null)
        {
            Sender.Tell(decision.Reply);
            return;
        }

        var sender = Sender;
        Persist(decision.Event, e =>
        {
            Applied(e);
            sender.Tell(decision.Reply);
        });
    }

    private void Applied(ITimelockEvent e)
    {
        _state = _state.Apply(e);
        _log.Info("Timelock {0}: {1} by {2} ({3})", e.ChangeId, e.GetType().Name, e.Meta.Actor, e.Meta.Reason);
        if (LastSequenceNr % SnapshotEvery == 0) SaveSnapshot(_state.AfterRecovery());
    }

    private sealed class Expire
    {
        public static readonly Expire Instance = new();
    }
}

/// <summary>Reads <c>hocon/timelock.hocon</c> under the operator's overlay (<c>Gpm:Timelock:Hocon</c>).</summary>
public static class TimelockHocon
{
    public static TimelockPolicy Load(string overlay) => From(ConfigurationFactory.ParseString(overlay).WithFallback(PersistenceHocon.Load("timelock.hocon")));

    public static TimelockPolicy From(Config root)
    {
        var c = root.GetConfig("gpm.timelock");
        var delays = ImmutableDictionary<string, TimeSpan>.Empty.WithComparers(StringComparer.Ordinal);
        foreach (var (kind, _) in c.GetConfig("delays").Root.GetObject().Items)
            delays = delays.SetItem(kind, NotNegative(c.GetTimeSpan($"delays.\"{kind}\""), $"delays.\"{kind}\""));
        var policy = new TimelockPolicy
        {
            Delays = delays,
            DefaultDelay = NotNegative(c.GetTimeSpan("default-delay"), "default-delay"),
            ExecutionWindow = NotNegative(c.GetTimeSpan("execution-window"), "execution-window"),
            MaxScheduled = c.GetInt("max-scheduled"),
            ClaimLease = NotNegative(c.GetTimeSpan("claim-lease"), "claim-lease"),
        };
        return Checked(policy);
    }

    /// <summary>
    /// Refuses, at start, settings the timelock cannot keep its promises with: no room for a scheduled change, or a claim lease
    /// that can end while an execution is still under way (then a second admin could claim and apply the same change, or a
    /// cancel land in the middle of it).
    /// </summary>
    public static TimelockPolicy Checked(TimelockPolicy policy)
    {
        if (policy.MaxScheduled <= 0) throw new InvalidOperationException("gpm.timelock.max-scheduled must be positive.");
        if (policy.ClaimLease <= TimelockExecutionBudget.Total)
            throw new InvalidOperationException(
                $"gpm.timelock.claim-lease ({policy.ClaimLease}) must be longer than an execution may take ({TimelockExecutionBudget.Total}: " +
                $"{TimelockExecutionBudget.ClaimAnswer.TotalSeconds:0} s for the claim's answer, {TimelockExecutionBudget.Apply.TotalSeconds:0} s to apply the change, " +
                $"{TimelockExecutionBudget.Record.TotalSeconds:0} s to record it); otherwise a second execution or a cancel can start while one is under way.");
        return policy;
    }

    private static TimeSpan NotNegative(TimeSpan value, string name) =>
        value >= TimeSpan.Zero ? value : throw new InvalidOperationException($"gpm.timelock.{name} must not be negative.");
}

/// <summary>
/// How long an execution of a timelocked change may take from the moment the singleton grants its claim (the edge's bounds,
/// <c>TimelockEndpoints</c>): the claim's answer reaches the edge within the edge's ask timeout, the kind's handler is cancelled
/// after <see cref="Apply"/>, and the completion (or failure) reaches the singleton within the ask timeout. The claim lease must
/// be longer than <see cref="Total"/>, so the lease of an execution under way never ends before its record arrives.
/// </summary>
public static class TimelockExecutionBudget
{
    /// <summary>The edge's ask timeout for the claim.</summary>
    public static readonly TimeSpan ClaimAnswer = TimeSpan.FromSeconds(10);

    /// <summary>The kind's handler applying the change.</summary>
    public static readonly TimeSpan Apply = TimeSpan.FromSeconds(30);

    /// <summary>The edge's ask timeout for recording the completion or the failure.</summary>
    public static readonly TimeSpan Record = TimeSpan.FromSeconds(10);

    public static TimeSpan Total => ClaimAnswer + Apply + Record;
}

/// <summary>Wires the timelock singleton into an actor system.</summary>
public static class TimelockHosting
{
    /// <summary>Starts the singleton on <paramref name="role"/> nodes and its proxy (<c>IRequiredActor&lt;TimelockSingleton&gt;</c>) everywhere.</summary>
    /// <remarks>The settings are checked here, at start (<see cref="TimelockHocon.Checked"/>), not when the singleton first runs.</remarks>
    public static AkkaConfigurationBuilder AddTimelock(this AkkaConfigurationBuilder builder, TimelockPolicy policy, TimeProvider clock, string role = "core")
    {
        TimelockHocon.Checked(policy);
        return builder.WithSingleton<TimelockSingleton>("timelock", (_, _, _) => TimelockActor.PropsFor(policy, clock), new ClusterSingletonOptions { Role = role });
    }
}
