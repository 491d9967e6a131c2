using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
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
public sealed record DirectoryEntry(DappId DappId, string ApiKeyHash, bool Frozen, DateTimeOffset? ThrottledUntil, int? QuotesPerSecond);

/// <summary>
/// This node's directory of dApps (DESIGN.md §9): which dApp ids and key hashes exist, folded from the dApps' <c>admin</c>-tagged
/// events by <see cref="DappDirectoryFeed"/>, so the edge refuses an unknown or revoked key with no actor message and no
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
/// Fills this node's <see cref="DappDirectory"/>: first every <c>admin</c>-tagged event in the journal (then the directory is
/// loaded), then, live, the ones that follow from any node. A failed query starts again from the last offset it read.
/// </summary>
public sealed class DappDirectoryFeed : ReceiveActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly DappDirectory _directory;
    private Offset _offset = Offset.NoOffset();

    public DappDirectoryFeed(DappDirectory directory)
    {
        _directory = directory;
        Receive<EventEnvelope>(envelope =>
        {
            if (envelope.Event is IDappEvent e) _directory.Apply(e);
            _offset = envelope.Offset;
        });
        Receive<CaughtUp>(_ =>
        {
            _directory.MarkLoaded();
            Run(live: true);
        });
        Receive<Status.Failure>(f =>
        {
            _log.Warning(f.Cause, "The dApp directory's journal query failed; starting again from its last offset");
            Timers.StartSingleTimer("retry", _directory.Loaded ? Retry.Live : Retry.Current, TimeSpan.FromSeconds(1));
        });
        Receive<Retry>(r => Run(r == Retry.Live));
    }

    private enum Retry
    {
        Current,
        Live,
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor(DappDirectory directory) => Props.Create(() => new DappDirectoryFeed(directory));

    protected override void PreStart() => Run(live: false);

    private void Run(bool live)
    {
        var journal = PersistenceQuery.Get(Context.System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var source = live ? journal.EventsByTag(AdminEventTagger.Tag, _offset) : journal.CurrentEventsByTag(AdminEventTagger.Tag, _offset);
        var self = Self;
        source.RunWith(Sink.ActorRef<EventEnvelope>(self, live ? new Status.Failure(new InvalidOperationException("The live query ended.")) : CaughtUp.Instance,
            ex => new Status.Failure(ex)), Context.Materializer());
    }

    private sealed class CaughtUp
    {
        public static readonly CaughtUp Instance = new();
    }
}
