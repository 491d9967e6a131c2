using GrandPaymaster.Actors.Audit;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.DistributedData;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence;
using GrandPaymaster.Actors.Replication;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Compliance;
using static GrandPaymaster.Domain.Compliance.DenylistProtocol;

namespace GrandPaymaster.Actors.Compliance;

/// <summary>
/// The denylist of this node, read by the edge and by every dApp entity before any hold, with no round trip: the singleton's
/// own state on the node that runs it, elsewhere the replica (Distributed Data). Swapped whole on every change, so a reader
/// never sees half an update, and a late replica notification never hides what the singleton has just written.
/// </summary>
public sealed class DenylistBoard : IDenylist
{
    private volatile ImmutableDictionary<string, DenylistEntry> _replica = ImmutableDictionary<string, DenylistEntry>.Empty;
    private volatile ImmutableDictionary<string, DenylistEntry>? _singleton;

    public int Count => Entries.Count;

    private ImmutableDictionary<string, DenylistEntry> Entries => _singleton ?? _replica;

    public DenylistEntry? Find(DenylistKind kind, string value, DateTimeOffset now, string? dapp = null) =>
        Entries.IsEmpty ? null // every quote and execute asks: no key is built while the list is empty
            : Active(DenylistEntry.KeyOf(kind, value), now) ?? (dapp is null ? null : Active(DenylistEntry.KeyOf(kind, value, dapp), now));

    /// <summary>The replicated list, as this node's replica has it.</summary>
    public void SetReplica(ImmutableDictionary<string, DenylistEntry> entries) => _replica = entries;

    /// <summary>The singleton's own list while it runs on this node (null when it stops here).</summary>
    public void SetSingleton(ImmutableDictionary<string, DenylistEntry>? entries) => _singleton = entries;

    private DenylistEntry? Active(string key, DateTimeOffset now) => Entries.TryGetValue(key, out var entry) && entry.IsActiveAt(now) ? entry : null;
}

/// <summary>Registry key for the denylist singleton's proxy.</summary>
public sealed class DenylistSingleton;

/// <summary>
/// The one persistent denylist (cluster singleton, persistence id <c>denylist</c>): wallets, dApps and target contracts, each
/// entry with reason, author and optional expiry. Every change is an event (its journal is the audit log); expired entries
/// leave by an event too. Each change is written to every node's replica (Distributed Data, <c>WriteAll</c>) before the
/// caller is answered, so an execute that follows the answer is refused on any node that was reachable; this node's board
/// is set at once.
/// </summary>
public sealed class DenylistActor : AuditedPersistentActor, IWithTimers
{
    internal static readonly ShardedMap<DenylistEntry> Replica = new("denylist");
    private static readonly TimeSpan ReplicationTimeout = TimeSpan.FromSeconds(3);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly DenylistBoard _board;
    private readonly TimeProvider _clock;
    private DenylistState _state = DenylistState.Empty;

    public DenylistActor(DenylistBoard board, TimeProvider clock)
    {
        _board = board;
        _clock = clock;
        Recover<SnapshotOffer>(o =>
        {
            if (o.Snapshot is DenylistState s) _state = s;
        });
        Recover<EntryAdded>(e => _state = _state.Apply(e));
        Recover<EntryRemoved>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ => ReplicateAll());

        Command<AddEntry>(c => Decide(_state.Decide(c)));
        Command<RemoveEntry>(c => Decide(_state.Decide(c)));
        Command<GetEntries>(_ => Sender.Tell(new Entries(_state.Items.Values.OrderBy(e => e.AddedAt).ToImmutableList())));
        Command<Expire>(_ =>
        {
            var now = _clock.GetUtcNow();
            var expired = _state.ExpiredAt(now).Take(1_000)
                .Select(entry => new EntryRemoved(entry.Kind, entry.Value, Meta.System("denylist", $"expired at {entry.ExpiresAt:O}", now), entry.Dapp)).ToArray();
            PersistAll(expired, e => Applied(e, null));
        });
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Snapshot of the denylist failed"));
        // The answer waits for every node's replica; one that did not confirm in time gets it by gossip shortly after.
        Command<UpdateSuccess>(s => Answer(s.Request));
        Command<UpdateTimeout>(t =>
        {
            _log.Warning("The denylist change reached not every node within {0}; they follow by gossip", ReplicationTimeout);
            Answer(t.Request);
        });
        Command<IUpdateResponse>(f => _log.Warning("Replicating the denylist failed: {0}", f));
    }

    public override string PersistenceId => "denylist";
    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor(DenylistBoard board, TimeProvider clock) => Props.Create(() => new DenylistActor(board, clock));

    protected override void PreStart()
    {
        base.PreStart();
        Timers.StartPeriodicTimer("expire", Expire.Instance, TimeSpan.FromSeconds(5));
    }

    protected override void PostStop()
    {
        _board.SetSingleton(null);
        base.PostStop();
    }

    private void Decide<TEvent>((IPaymasterMessage Reply, TEvent? Event) decision) where TEvent : class, IPaymasterMessage
    {
        if (decision.Event is null)
        {
            Sender.Tell(decision.Reply);
            return;
        }

        var pending = new PendingAnswer(Sender, decision.Reply);
        Persist(decision.Event, e => Applied(e, pending));
    }

    private void Applied(IPaymasterMessage e, PendingAnswer? answer)
    {
        _state = _state.Apply(e);
        if (LastSequenceNr % 1_000 == 0) SaveSnapshot(_state);
        _board.SetSingleton(_state.Items);
        var self = Akka.Cluster.Cluster.Get(Context.System).SelfUniqueAddress;
        var consistency = answer is null ? (IWriteConsistency)WriteLocal.Instance : new WriteAll(ReplicationTimeout);
        DistributedData.Get(Context.System).Replicator.Tell(e switch
        {
            EntryAdded added => Replica.Set(self, added.Entry.Key, added.Entry, consistency, answer),
            EntryRemoved removed => Replica.Remove(self, removed.Key, consistency, answer),
            _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "Not a denylist event."),
        });
    }

    private static void Answer(object? request)
    {
        if (request is PendingAnswer answer) answer.ReplyTo.Tell(answer.Reply);
    }

    /// <summary>After recovery every part of the replicated list is made to match the journal (entries only a replica still had go).</summary>
    private void ReplicateAll()
    {
        _board.SetSingleton(_state.Items);
        var self = Akka.Cluster.Cluster.Get(Context.System).SelfUniqueAddress;
        var items = _state.Items;
        foreach (var key in Replica.Keys)
            DistributedData.Get(Context.System).Replicator.Tell(Dsl.Update(key, LWWDictionary<string, DenylistEntry>.Empty, WriteLocal.Instance, map =>
            {
                foreach (var stale in map.Keys.Where(k => !items.ContainsKey(k)).ToArray()) map = map.Remove(self, stale);
                foreach (var (entryKey, entry) in items)
                    if (Replica.KeyOf(entryKey).Equals(key) && (!map.TryGetValue(entryKey, out var known) || known != entry))
                        map = map.SetItem(self, entryKey, entry);
                return map;
            }));
    }

    private sealed record PendingAnswer(IActorRef ReplyTo, IPaymasterMessage Reply);

    private sealed class Expire
    {
        public static readonly Expire Instance = new();
    }
}

/// <summary>Wires the denylist singleton (and this node's replica of it) into an actor system.</summary>
public static class DenylistHosting
{
    /// <summary>Starts the singleton on <paramref name="role"/> nodes, its proxy, and this node's replica of the list.</summary>
    public static AkkaConfigurationBuilder AddDenylist(this AkkaConfigurationBuilder builder, DenylistBoard board, TimeProvider clock, string role = "core") =>
        builder
            .WithActors((system, _) => system.ActorOf(Props.Create(() => new Subscriber(board)), "denylist-replica"))
            .WithSingleton<DenylistSingleton>("denylist", (_, _, _) => DenylistActor.PropsFor(board, clock), new ClusterSingletonOptions { Role = role });

    /// <summary>Copies the replicated list into this node's board, part by part.</summary>
    private sealed class Subscriber : ReceiveActor
    {
        private readonly Dictionary<string, IReadOnlyDictionary<string, DenylistEntry>> _parts = new(StringComparer.Ordinal);

        public Subscriber(DenylistBoard board)
        {
            Receive<Changed>(changed =>
            {
                if (DenylistActor.Replica.EntriesOf(changed) is not { } entries) return;
                _parts[changed.Key.Id] = entries;
                board.SetReplica(_parts.Values.SelectMany(p => p).ToImmutableDictionary(StringComparer.Ordinal));
            });
        }

        protected override void PreStart()
        {
            var replicator = DistributedData.Get(Context.System).Replicator;
            foreach (var key in DenylistActor.Replica.Keys) replicator.Tell(Dsl.Subscribe(key, Self));
        }
    }
}
