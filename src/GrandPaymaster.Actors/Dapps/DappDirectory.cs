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
using GrandPaymaster.Domain.Common;
using static GrandPaymaster.Domain.Dapps.DappEvents;

namespace GrandPaymaster.Actors.Dapps;

/// <summary>What an edge knows of a dApp without asking it: its key hash, whether it is frozen or throttled, its quote rate.</summary>
public sealed record DirectoryEntry(DappId DappId, string ApiKeyHash, bool Frozen, DateTimeOffset? ThrottledUntil, int? QuotesPerSecond) : IPaymasterMessage;

/// <summary>
/// This node's directory of dApps (DESIGN.md §9): which dApp ids and key hashes exist, folded from the dApps' <c>admin</c>-tagged
/// events by <see cref="DappDirectoryFeed"/> and replicated to every node, so the edge refuses an unknown or revoked key with no actor message and no
/// journal read. Bounded by the number of registered dApps. Until the journal has been read once it is not
/// <see cref="Loaded"/> and the edge answers 503.
/// </summary>
public sealed class DappDirectory
{
    private readonly ConcurrentDictionary<DappId, DirectoryEntry> _entries = new();

    public bool Loaded { get; private set; }

    public int Count => _entries.Count;

    public DirectoryEntry? Find(DappId id) => _entries.GetValueOrDefault(id);

    /// <summary>The entry when <paramref name="apiKeyHash"/> is the dApp's current key (compared in constant time); null otherwise.</summary>
    public DirectoryEntry? Authenticate(DappId id, string apiKeyHash) =>
        _entries.TryGetValue(id, out var entry) &&
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(entry.ApiKeyHash), Encoding.ASCII.GetBytes(apiKeyHash))
            ? entry
            : null;

    /// <summary>Folds one of a dApp's events (those the <see cref="AdminEventTagger"/> tags).</summary>
    public void Apply(IDappEvent e)
    {
        if (e is DappRegistered registered)
        {
            _entries[registered.DappId] = new DirectoryEntry(registered.DappId, registered.ApiKeyHash, false, null, null);
            return;
        }

        if (!_entries.TryGetValue(e.DappId, out var entry)) return;
        _entries[e.DappId] = e switch
        {
            ApiKeyRotated r => entry with { ApiKeyHash = r.ApiKeyHash },
            DappFrozen => entry with { Frozen = true },
            DappUnfrozen => entry with { Frozen = false },
            DappThrottled t => entry with { ThrottledUntil = t.Until },
            DappThrottleLifted => entry with { ThrottledUntil = null },
            PolicySet p => entry with { QuotesPerSecond = p.Policy.QuotesPerSecond is > 0 and var rate ? rate : null },
            _ => entry,
        };
    }

    /// <summary>An admin route's own change, applied at once on this node (other nodes follow through the journal).</summary>
    public void Upsert(DirectoryEntry entry) => _entries[entry.DappId] = entry;

    public void Update(DappId id, Func<DirectoryEntry, DirectoryEntry> change)
    {
        if (_entries.TryGetValue(id, out var entry)) _entries[id] = change(entry);
    }

    internal void MarkLoaded() => Loaded = true;
}

/// <summary>Tags the dApp events the directory folds (and that operators audit) with <c>admin</c>; the hot-path events stay untagged.</summary>
public sealed class AdminEventTagger : IWriteEventAdapter
{
    public const string Tag = "admin";
    private static readonly ImmutableHashSet<string> Tags = [Tag];

    public string Manifest(object evt) => string.Empty;

    public object ToJournal(object evt) => evt switch
    {
        DappRegistered or ApiKeyRotated or DappFrozen or DappUnfrozen or DappThrottled or DappThrottleLifted or PolicySet or OwnLimitsSet
            or DirectCallAllowed or DirectCallRevoked => new Tagged(evt, Tags),
        _ => evt,
    };
}

/// <summary>
/// Feeds every node's <see cref="DappDirectory"/> (a cluster singleton on a node with the journal): first every
/// <c>admin</c>-tagged event in the journal, then, live, the ones that follow; each changed entry is replicated through
/// Distributed Data, and once the journal has been read the directory is marked loaded. Edge-only nodes need no journal
/// access. A failed query starts again from the last offset it read.
/// </summary>
public sealed class DappDirectoryFeed : ReceiveActor, IWithTimers
{
    internal static readonly LWWDictionaryKey<string, DirectoryEntry> EntriesKey = new("dapp-directory");
    internal static readonly LWWRegisterKey<bool> LoadedKey = new("dapp-directory-loaded");
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly DappDirectory _folded = new();
    private Offset _offset = Offset.NoOffset();
    private bool _caughtUp;

    public DappDirectoryFeed()
    {
        Receive<EventEnvelope>(envelope =>
        {
            _offset = envelope.Offset;
            if (envelope.Event is not IDappEvent e) return;
            _folded.Apply(e);
            if (_folded.Find(e.DappId) is { } entry) Replicate(map => map.SetItem(SelfAddress, entry.DappId.Value, entry));
        });
        Receive<CaughtUp>(_ =>
        {
            _caughtUp = true;
            DistributedData.Get(Context.System).Replicator.Tell(Dsl.Update(LoadedKey, new LWWRegister<bool>(SelfAddress, false), WriteLocal.Instance,
                r => r.WithValue(SelfAddress, true)), ActorRefs.Nobody);
            Run(live: true);
        });
        Receive<Status.Failure>(f =>
        {
            _log.Warning(f.Cause, "The dApp directory's journal query failed; starting again from its last offset");
            Timers.StartSingleTimer("retry", _caughtUp ? Retry.Live : Retry.Current, TimeSpan.FromSeconds(1));
        });
        Receive<Retry>(r => Run(r == Retry.Live));
    }

    private enum Retry
    {
        Current,
        Live,
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private UniqueAddress SelfAddress => Akka.Cluster.Cluster.Get(Context.System).SelfUniqueAddress;

    public static Props PropsFor() => Props.Create(() => new DappDirectoryFeed());

    protected override void PreStart() => Run(live: false);

    private void Replicate(Func<LWWDictionary<string, DirectoryEntry>, LWWDictionary<string, DirectoryEntry>> change) =>
        DistributedData.Get(Context.System).Replicator.Tell(Dsl.Update(EntriesKey, LWWDictionary<string, DirectoryEntry>.Empty, WriteLocal.Instance, change),
            ActorRefs.Nobody);

    private void Run(bool live)
    {
        var journal = PersistenceQuery.Get(Context.System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var source = live ? journal.EventsByTag(AdminEventTagger.Tag, _offset) : journal.CurrentEventsByTag(AdminEventTagger.Tag, _offset);
        source.RunWith(Sink.ActorRef<EventEnvelope>(Self, live ? new Status.Failure(new InvalidOperationException("The live query ended.")) : CaughtUp.Instance,
            ex => new Status.Failure(ex)), Context.Materializer());
    }

    private sealed class CaughtUp
    {
        public static readonly CaughtUp Instance = new();
    }
}

/// <summary>Copies the replicated directory into this node's <see cref="DappDirectory"/>.</summary>
public sealed class DappDirectoryReplica : ReceiveActor
{
    public DappDirectoryReplica(DappDirectory directory)
    {
        Receive<Changed>(changed =>
        {
            if (changed.Key.Equals(DappDirectoryFeed.EntriesKey))
                foreach (var entry in changed.Get(DappDirectoryFeed.EntriesKey).Entries.Values) directory.Upsert(entry);
            else if (changed.Key.Equals(DappDirectoryFeed.LoadedKey) && changed.Get(DappDirectoryFeed.LoadedKey).Value)
                directory.MarkLoaded();
        });
    }

    public static Props PropsFor(DappDirectory directory) => Props.Create(() => new DappDirectoryReplica(directory));

    protected override void PreStart()
    {
        var replicator = DistributedData.Get(Context.System).Replicator;
        replicator.Tell(Dsl.Subscribe(DappDirectoryFeed.EntriesKey, Self));
        replicator.Tell(Dsl.Subscribe(DappDirectoryFeed.LoadedKey, Self));
    }
}
