using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using Akka.Persistence.Journal;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using GrandPaymaster.Actors.Replication;
using GrandPaymaster.Domain.Common;
using static GrandPaymaster.Domain.Dapps.DappEvents;

namespace GrandPaymaster.Actors.Dapps;

/// <summary>
/// What an edge knows of a dApp without asking it: its key hash, whether it is frozen, its quote rate; <paramref name="Version"/>
/// is the sequence number of the dApp's event it reflects, so an older copy never replaces a newer one.
/// </summary>
public sealed record DirectoryEntry(DappId DappId, string ApiKeyHash, bool Frozen, int? QuotesPerSecond, long Version) : IPaymasterMessage;

/// <summary>
/// This node's directory of dApps (DESIGN.md §9): which dApp ids and key hashes exist, folded from the dApps' <c>admin</c>-tagged
/// events by <see cref="DappDirectoryFeed"/> and replicated to every node, so the edge refuses an unknown or revoked key with no
/// actor message and no journal read. Bounded by the number of registered dApps. Until the journal has been read once it is
/// not <see cref="Loaded"/> and the edge answers 503.
/// </summary>
public sealed class DappDirectory
{
    private readonly ConcurrentDictionary<DappId, DirectoryEntry> _entries = new();

    public bool Loaded { get; private set; }

    public int Count => _entries.Count;

    public DirectoryEntry? Find(DappId id) => _entries.GetValueOrDefault(id);

    /// <summary>Up to <paramref name="limit"/> entries in id order after <paramref name="after"/> (a page of the operators' list).</summary>
    public IReadOnlyList<DirectoryEntry> Page(string? after, int limit, Func<DirectoryEntry, bool>? include = null) =>
        _entries.Values.Where(e => (after is null || string.CompareOrdinal(e.DappId.Value, after) > 0) && (include?.Invoke(e) ?? true))
            .OrderBy(e => e.DappId.Value, StringComparer.Ordinal).Take(limit).ToArray();

    /// <summary>The entry when <paramref name="apiKeyHash"/> is the dApp's current key (compared in constant time); null otherwise.</summary>
    public DirectoryEntry? Authenticate(DappId id, string apiKeyHash) =>
        _entries.TryGetValue(id, out var entry) &&
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(entry.ApiKeyHash), Encoding.ASCII.GetBytes(apiKeyHash))
            ? entry
            : null;

    /// <summary>Folds one of a dApp's events (those the <see cref="AdminEventTagger"/> tags), written at <paramref name="sequenceNr"/>; the entry it changed.</summary>
    public DirectoryEntry? Apply(IDappEvent e, long sequenceNr)
    {
        var known = _entries.GetValueOrDefault(e.DappId);
        if (known is not null && sequenceNr <= known.Version) return null;
        DirectoryEntry? changed = e switch
        {
            DappRegistered r => new DirectoryEntry(r.DappId, r.ApiKeyHash, false, null, sequenceNr),
            _ when known is null => null,
            ApiKeyRotated r => known with { ApiKeyHash = r.ApiKeyHash, Version = sequenceNr },
            DappFrozen => known with { Frozen = true, Version = sequenceNr },
            DappUnfrozen => known with { Frozen = false, Version = sequenceNr },
            PolicySet p => known with { QuotesPerSecond = p.Policy.QuotesPerSecond is > 0 and var rate ? rate : null, Version = sequenceNr },
            _ => null,
        };
        if (changed is not null) _entries[e.DappId] = changed;
        return changed;
    }

    /// <summary>A replicated entry: kept unless this node already has a later version.</summary>
    public void Upsert(DirectoryEntry entry) => _entries.AddOrUpdate(entry.DappId, entry, (_, old) => entry.Version >= old.Version ? entry : old);

    /// <summary>An admin route's own change, applied at once on this node as the next version (the journaled event follows).</summary>
    public void Update(DappId id, Func<DirectoryEntry, DirectoryEntry> change)
    {
        if (_entries.TryGetValue(id, out var entry)) _entries[id] = change(entry) with { Version = entry.Version + 1 };
    }

    internal void MarkLoaded() => Loaded = true;
}

/// <summary>Tags the dApp events the directory folds (and that operators audit) with <c>admin</c>; the hot-path events stay untagged.</summary>
public sealed class AdminEventTagger : IWriteEventAdapter
{
    public const string Tag = "admin";
    private static readonly ImmutableHashSet<string> Tags = [Tag];

    public string Manifest(object evt) => string.Empty;

    /// <summary>
    /// Operators' changes (and a fraud rule's freeze) only: each is a person's act or follows one, so their number stays small
    /// and reading them all at a start stays cheap. THROTTLED entries and exits are journaled untagged (a flood could add them
    /// without end) — each edge keeps its own.
    /// </summary>
    public object ToJournal(object evt) => (evt is Audit.ChainedEvent chained ? chained.Event : evt) switch
    {
        DappRegistered or ApiKeyRotated or DappFrozen or DappUnfrozen or PolicySet or OwnLimitsSet or DirectCallAllowed or DirectCallRevoked =>
            new Tagged(evt, Tags),
        _ => evt,
    };
}

/// <summary>
/// Loads every node's <see cref="DappDirectory"/> when the cluster starts (a cluster singleton on a node with the journal):
/// each dApp's registration (its first event: dApps registered before events were tagged have it untagged), then every
/// <c>admin</c>-tagged event. Each entry is replicated through Distributed Data (a <see cref="ShardedMap{T}"/>) and then the
/// directory is marked loaded; an edge-only node needs no journal access. After that each dApp entity publishes its own
/// entry when it journals a change (<see cref="Publish"/>): no query polls the journal while the node serves (measured: a
/// live tag query polling every 500 ms doubled the execute p95 of the benchmark's flow on SQLite). A failed query starts again.
/// </summary>
public sealed class DappDirectoryFeed : ReceiveActor, IWithTimers
{
    internal static readonly ShardedMap<DirectoryEntry> Replica = new("dapp-directory");
    internal static readonly LWWRegisterKey<bool> LoadedKey = new("dapp-directory-loaded");
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly DappDirectory _folded = new();
    private Offset _offset = Offset.NoOffset();
    private Phase _phase = Phase.Registrations;

    public DappDirectoryFeed()
    {
        Receive<Registration>(r => Fold(r.Envelope));
        Receive<EventEnvelope>(envelope =>
        {
            _offset = envelope.Offset;
            Fold(envelope);
        });
        Receive<PhaseDone>(_ =>
        {
            if (_phase == Phase.Tagged)
            {
                var self = Cluster.Get(Context.System).SelfUniqueAddress;
                DistributedData.Get(Context.System).Replicator.Tell(Dsl.Update(LoadedKey, new LWWRegister<bool>(self, false), WriteLocal.Instance,
                    r => r.WithValue(self, true)), ActorRefs.Nobody);
            }

            _phase++;
            if (_phase != Phase.Loaded) Run();
        });
        Receive<Status.Failure>(f =>
        {
            _log.Warning(f.Cause, "The dApp directory's journal query failed ({0}); starting it again", _phase);
            Timers.StartSingleTimer("retry", Retry.Instance, TimeSpan.FromSeconds(1));
        });
        Receive<Retry>(_ => Run());
    }

    private enum Phase
    {
        Registrations,
        Tagged,
        Loaded,
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor() => Props.Create(() => new DappDirectoryFeed());

    /// <summary>A dApp entity's entry after a change it journaled (registration, key rotation, freeze, policy), to every node.</summary>
    public static void Publish(ActorSystem system, DirectoryEntry entry) =>
        DistributedData.Get(system).Replicator.Tell(
            Replica.Set(Cluster.Get(system).SelfUniqueAddress, entry.DappId.Value, entry, WriteLocal.Instance), ActorRefs.Nobody);

    protected override void PreStart() => Run();

    private void Fold(EventEnvelope envelope)
    {
        // Events are read inside their audit chain link (Audit.ChainedEvent); older rows are plain.
        var @event = envelope.Event is Audit.ChainedEvent chained ? chained.Event : envelope.Event;
        if (@event is IDappEvent e && _folded.Apply(e, envelope.SequenceNr) is { } entry) Publish(Context.System, entry);
    }

    private void Run()
    {
        var journal = PersistenceQuery.Get(Context.System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var materializer = Context.Materializer();
        switch (_phase)
        {
            case Phase.Registrations:
                journal.CurrentPersistenceIds()
                    .Where(id => id.StartsWith(DappActor.PersistenceIdPrefix, StringComparison.Ordinal))
                    .SelectAsync(4, id => journal.CurrentEventsByPersistenceId(id, 1, 1).RunWith(Sink.FirstOrDefault<EventEnvelope>(), materializer))
                    .Where(envelope => envelope is not null)
                    .Select(envelope => new Registration(envelope!))
                    .RunWith(Sink.ActorRef<Registration>(Self, PhaseDone.Instance, ex => new Status.Failure(ex)), materializer);
                break;
            default:
                journal.CurrentEventsByTag(AdminEventTagger.Tag, _offset)
                    .RunWith(Sink.ActorRef<EventEnvelope>(Self, PhaseDone.Instance, ex => new Status.Failure(ex)), materializer);
                break;
        }
    }

    private sealed record Registration(EventEnvelope Envelope);

    private sealed class PhaseDone
    {
        public static readonly PhaseDone Instance = new();
    }

    private sealed class Retry
    {
        public static readonly Retry Instance = new();
    }
}

/// <summary>Copies the replicated directory into this node's <see cref="DappDirectory"/> (a later version wins).</summary>
public sealed class DappDirectoryReplica : ReceiveActor
{
    public DappDirectoryReplica(DappDirectory directory)
    {
        Receive<Changed>(changed =>
        {
            if (DappDirectoryFeed.Replica.EntriesOf(changed) is { } entries)
                foreach (var entry in entries.Values) directory.Upsert(entry);
            else if (changed.Key.Equals(DappDirectoryFeed.LoadedKey) && changed.Get(DappDirectoryFeed.LoadedKey).Value)
                directory.MarkLoaded();
        });
    }

    public static Props PropsFor(DappDirectory directory) => Props.Create(() => new DappDirectoryReplica(directory));

    protected override void PreStart()
    {
        var replicator = DistributedData.Get(Context.System).Replicator;
        foreach (var key in DappDirectoryFeed.Replica.Keys) replicator.Tell(Dsl.Subscribe(key, Self));
        replicator.Tell(Dsl.Subscribe(DappDirectoryFeed.LoadedKey, Self));
    }
}
