using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.DistributedData;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Compliance;
using static GrandPaymaster.Domain.Compliance.DenylistProtocol;

namespace GrandPaymaster.Actors.Compliance;

/// <summary>
/// The denylist of this node: a replica of the one persistent list (Distributed Data), read by the edge and by every dApp
/// entity before any hold, with no round trip. Swapped whole on every change, so a reader never sees half an update.
/// </summary>
public sealed class DenylistBoard : IDenylist
{
    private volatile ImmutableDictionary<string, DenylistEntry> _entries = ImmutableDictionary<string, DenylistEntry>.Empty;

    public int Count => _entries.Count;

    public DenylistEntry? Find(DenylistKind kind, string value, DateTimeOffset now) =>
        _entries.TryGetValue(DenylistEntry.KeyOf(kind, value), out var entry) && entry.IsActiveAt(now) ? entry : null;

    public void Replace(ImmutableDictionary<string, DenylistEntry> entries) => _entries = entries;
}

/// <summary>Registry key for the denylist singleton's proxy.</summary>
public sealed class DenylistSingleton;

/// <summary>
/// The one persistent denylist (cluster singleton, persistence id <c>denylist</c>): wallets, dApps and target contracts, each
/// entry with reason, author and optional expiry. Every change is an event (its journal is the audit log); expired entries
/// leave by an event too. After each change the whole list is replicated (one LWW register), and on this node the board is
/// updated before the caller is answered, so an execute that follows the answer on this node is already refused.
/// </summary>
public sealed class DenylistActor : ReceivePersistentActor, IWithTimers
{
    internal static readonly LWWDictionaryKey<string, DenylistEntry> Key = new("denylist");
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
        Recover<RecoveryCompleted>(_ => PublishAll());

        Command<AddEntry>(c => Persist(c, _state.Decide(c)));
        Command<RemoveEntry>(c => Persist(c, _state.Decide(c)));
        Command<GetEntries>(_ => Sender.Tell(new Entries(_state.Items.Values.OrderBy(e => e.AddedAt).ToImmutableList())));
        Command<Expire>(_ =>
        {
            var now = _clock.GetUtcNow();
            var expired = _state.ExpiredAt(now).Take(1_000)
                .Select(entry => new EntryRemoved(entry.Kind, entry.Value, Meta.System("denylist", $"expired at {entry.ExpiresAt:O}", now))).ToArray();
            PersistAll(expired, e => Applied(e));
        });
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Snapshot of the denylist failed"));
        Command<UpdateSuccess>(_ => { });
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

    private void Persist<TEvent>(object command, (IPaymasterMessage Reply, TEvent? Event) decision) where TEvent : class, IPaymasterMessage
    {
        var sender = Sender;
        if (decision.Event is null)
        {
            sender.Tell(decision.Reply);
            return;
        }

        Persist(decision.Event, e =>
        {
            Applied(e);
            sender.Tell(decision.Reply);
        });
    }

    private void Applied(IPaymasterMessage e)
    {
        _state = _state.Apply(e);
        if (LastSequenceNr % 1_000 == 0) SaveSnapshot(_state);
        _board.Replace(_state.Items);
        var self = Akka.Cluster.Cluster.Get(Context.System).SelfUniqueAddress;
        Replicate(e switch
        {
            EntryAdded added => map => map.SetItem(self, added.Entry.Key, added.Entry),
            EntryRemoved removed => map => map.Remove(self, DenylistEntry.KeyOf(removed.Kind, removed.Value)),
            _ => map => map,
        });
    }

    /// <summary>After recovery the replicated list is made to match the journal (entries only the replica still had go).</summary>
    private void PublishAll()
    {
        _board.Replace(_state.Items);
        var self = Akka.Cluster.Cluster.Get(Context.System).SelfUniqueAddress;
        var items = _state.Items;
        Replicate(map =>
        {
            foreach (var stale in map.Keys.Where(k => !items.ContainsKey(k)).ToArray()) map = map.Remove(self, stale);
            foreach (var (key, entry) in items)
                if (!map.TryGetValue(key, out var known) || known != entry) map = map.SetItem(self, key, entry);
            return map;
        });
    }

    private void Replicate(Func<LWWDictionary<string, DenylistEntry>, LWWDictionary<string, DenylistEntry>> change) =>
        DistributedData.Get(Context.System).Replicator.Tell(Dsl.Update(Key, LWWDictionary<string, DenylistEntry>.Empty, WriteLocal.Instance, change));

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

    /// <summary>Copies the replicated list into this node's board.</summary>
    private sealed class Subscriber : ReceiveActor
    {
        public Subscriber(DenylistBoard board)
        {
            Receive<Changed>(c => board.Replace(c.Get(DenylistActor.Key).Entries.ToImmutableDictionary(StringComparer.Ordinal)));
        }

        protected override void PreStart() => DistributedData.Get(Context.System).Replicator.Tell(Dsl.Subscribe(DenylistActor.Key, Self));
    }
}
