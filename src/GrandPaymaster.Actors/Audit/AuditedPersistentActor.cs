using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;

namespace GrandPaymaster.Actors.Audit;

/// <summary>
/// The base of every persistent actor in the paymaster: its journal is the audit log (DESIGN.md §4), and this class hash-chains it
/// per persistence id so that no actor can persist around the chain. Actors call <c>Persist</c> / <c>PersistAll</c> /
/// <c>PersistAsync</c> / <c>PersistAllAsync</c> / <c>SaveSnapshot</c> and register <c>Recover&lt;T&gt;</c> handlers on their own
/// events as usual: each event is written inside a <see cref="ChainedEvent"/> (hashed with the sequence number Akka gives it at
/// the call, in call order), each snapshot inside a <see cref="ChainedSnapshot"/> carrying the chain's hash, and recovery unwraps
/// both before the actor's handlers see them.
/// <para>
/// Recovery checks every link (<see cref="ChainCursor"/>). A fault is logged as an error naming the persistence id and sequence
/// number, kept in <see cref="ChainFault"/> and in the node's <see cref="AuditLog"/>; the entity still recovers (its state is what
/// the journal says; the operators decide). Events written before the chain existed (plain rows) recover as a legacy prefix.
/// After each persisted write the chain head goes to the node's checkpoint collector and the write's latency (Persist call to
/// handler) to <see cref="JournalWriteLatency"/>.
/// </para>
/// </summary>
public abstract class AuditedPersistentActor : ReceivePersistentActor
{
    private ChainCursor? _recovery;
    private AuditLog? _audit;

    // The next link's previous hash and sequence number, advanced at each Persist call (Akka numbers events at the call).
    private byte[] _tipHash = ChainHash.Genesis.ToArray();
    private long _tipSeq = -1;

    // The chain head of the last event whose write was confirmed (what a snapshot taken now covers).
    private byte[]? _confirmedHash;
    private long _confirmedSeq;

    /// <summary>The first chain fault found while recovering (null: the chain checked out).</summary>
    protected ChainFault? ChainFault => _recovery?.Fault;

    private AuditLog Audit => _audit ??= AuditLog.Get(Context.System);

    private ChainCursor RecoveryChain => _recovery ??= new ChainCursor(PersistenceId);

    /// <summary>Unwraps chained snapshots and replayed events before Akka hands them to the recovery handlers.</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        switch (message)
        {
            case ReplayedMessage replayed:
                return base.AroundReceive(receive, Replayed(replayed));
            case LoadSnapshotResult { Snapshot: { } selected } result:
                if (selected.Snapshot is ChainedSnapshot chained)
                {
                    RecoveryChain.StartAfterSnapshot(selected.Metadata.SequenceNr, chained.Hash);
                    if (chained.SequenceNr != selected.Metadata.SequenceNr) Fault(RecoveryChain.Report(selected.Metadata.SequenceNr, "checkpoint_mismatch",
                        $"the snapshot at {selected.Metadata.SequenceNr} carries the chain head of {chained.SequenceNr}"));
                    return base.AroundReceive(receive, new LoadSnapshotResult(new SelectedSnapshot(selected.Metadata, chained.State), result.ToSequenceNr));
                }

                RecoveryChain.StartAfterSnapshot(selected.Metadata.SequenceNr, null);
                return base.AroundReceive(receive, message);
            default:
                return base.AroundReceive(receive, message);
        }
    }

    private ReplayedMessage Replayed(ReplayedMessage replayed)
    {
        var persistent = replayed.Persistent;
        Fault(RecoveryChain.Next(persistent.SequenceNr, persistent.Payload));
        return persistent.Payload is ChainedEvent chained ? new ReplayedMessage(persistent.WithPayload(chained.Event)) : replayed;
    }

    private void Fault(ChainFault? fault)
    {
        if (fault is null) return;
        Context.GetLogger().Error("Audit chain fault in {0} at sequence number {1} ({2}): {3}", fault.PersistenceId, fault.SequenceNr, fault.Code, fault.Problem);
        Audit.ReportFault(fault);
    }

    /// <summary>The chain continues from what recovery read (first call after recovery).</summary>
    private void EnsureTip()
    {
        if (_tipSeq >= 0) return;
        _tipSeq = LastSequenceNr;
        var recovered = RecoveryChain;
        _tipHash = recovered.LastHash;
        _confirmedSeq = recovered.LastSequenceNr;
        _confirmedHash = recovered.Chained ? recovered.LastHash : null;
    }

    private ChainedEvent Link(object @event)
    {
        EnsureTip();
        var chained = ChainedEvent.Link(@event, ++_tipSeq, _tipHash);
        _tipHash = chained.Hash;
        return chained;
    }

    private ChainedEvent[] LinkAll<TEvent>(IEnumerable<TEvent> events) => events.Select(e => Link(e!)).ToArray();

    /// <summary>Runs after the journal confirmed <paramref name="chained"/>, before the actor's handler.</summary>
    private void Confirmed(ChainedEvent chained, long started, long lastOfWrite)
    {
        _confirmedSeq = chained.SequenceNr;
        _confirmedHash = chained.Hash;
        if (LastSequenceNr != chained.SequenceNr)
            Context.GetLogger().Error("Audit chain of {0}: event hashed as {1} was written as {2}", PersistenceId, chained.SequenceNr, LastSequenceNr);
        if (chained.SequenceNr != lastOfWrite) return;
        Audit.WriteLatency.Observe(started);
        Audit.Heads.Report(PersistenceId, chained.SequenceNr, chained.Hash);
    }

    private Action<ChainedEvent> Handler<TEvent>(Action<TEvent> handler, long lastOfWrite)
    {
        var started = Stopwatch.GetTimestamp();
        return chained =>
        {
            Confirmed(chained, started, lastOfWrite);
            handler((TEvent)chained.Event);
        };
    }

    private Func<ChainedEvent, Task> Handler<TEvent>(Func<TEvent, Task> handler, long lastOfWrite)
    {
        var started = Stopwatch.GetTimestamp();
        return chained =>
        {
            Confirmed(chained, started, lastOfWrite);
            return handler((TEvent)chained.Event);
        };
    }

    public new void Persist<TEvent>(TEvent @event, Action<TEvent> handler)
    {
        var chained = Link(@event!);
        base.Persist(chained, Handler(handler, chained.SequenceNr));
    }

    public new void Persist<TEvent>(TEvent @event, Func<TEvent, Task> handler)
    {
        var chained = Link(@event!);
        base.Persist(chained, Handler(handler, chained.SequenceNr));
    }

    public new void PersistAsync<TEvent>(TEvent @event, Action<TEvent> handler)
    {
        var chained = Link(@event!);
        base.PersistAsync(chained, Handler(handler, chained.SequenceNr));
    }

    public new void PersistAsync<TEvent>(TEvent @event, Func<TEvent, Task> handler)
    {
        var chained = Link(@event!);
        base.PersistAsync(chained, Handler(handler, chained.SequenceNr));
    }

    public new void PersistAll<TEvent>(IEnumerable<TEvent> events, Action<TEvent> handler)
    {
        var chained = LinkAll(events);
        base.PersistAll(chained, Handler(handler, Last(chained)));
    }

    public new void PersistAll<TEvent>(IEnumerable<TEvent> events, Action<TEvent> handler, Action onComplete)
    {
        var chained = LinkAll(events);
        base.PersistAll(chained, Handler(handler, Last(chained)), onComplete);
    }

    public new void PersistAll<TEvent>(IEnumerable<TEvent> events, Action<TEvent> handler, Func<Task> onCompleteAsync)
    {
        var chained = LinkAll(events);
        base.PersistAll(chained, Handler(handler, Last(chained)), onCompleteAsync);
    }

    public new void PersistAll<TEvent>(IEnumerable<TEvent> events, Func<TEvent, Task> handler)
    {
        var chained = LinkAll(events);
        base.PersistAll(chained, Handler(handler, Last(chained)));
    }

    public new void PersistAll<TEvent>(IEnumerable<TEvent> events, Func<TEvent, Task> handler, Action onComplete)
    {
        var chained = LinkAll(events);
        base.PersistAll(chained, Handler(handler, Last(chained)), onComplete);
    }

    public new void PersistAll<TEvent>(IEnumerable<TEvent> events, Func<TEvent, Task> handler, Func<Task> onCompleteAsync)
    {
        var chained = LinkAll(events);
        base.PersistAll(chained, Handler(handler, Last(chained)), onCompleteAsync);
    }

    public new void PersistAllAsync<TEvent>(IEnumerable<TEvent> events, Action<TEvent> handler)
    {
        var chained = LinkAll(events);
        base.PersistAllAsync(chained, Handler(handler, Last(chained)));
    }

    public new void PersistAllAsync<TEvent>(IEnumerable<TEvent> events, Action<TEvent> handler, Action onComplete)
    {
        var chained = LinkAll(events);
        base.PersistAllAsync(chained, Handler(handler, Last(chained)), onComplete);
    }

    public new void PersistAllAsync<TEvent>(IEnumerable<TEvent> events, Action<TEvent> handler, Func<Task> onCompleteAsync)
    {
        var chained = LinkAll(events);
        base.PersistAllAsync(chained, Handler(handler, Last(chained)), onCompleteAsync);
    }

    public new void PersistAllAsync<TEvent>(IEnumerable<TEvent> events, Func<TEvent, Task> handler)
    {
        var chained = LinkAll(events);
        base.PersistAllAsync(chained, Handler(handler, Last(chained)));
    }

    public new void PersistAllAsync<TEvent>(IEnumerable<TEvent> events, Func<TEvent, Task> handler, Action onComplete)
    {
        var chained = LinkAll(events);
        base.PersistAllAsync(chained, Handler(handler, Last(chained)), onComplete);
    }

    public new void PersistAllAsync<TEvent>(IEnumerable<TEvent> events, Func<TEvent, Task> handler, Func<Task> onCompleteAsync)
    {
        var chained = LinkAll(events);
        base.PersistAllAsync(chained, Handler(handler, Last(chained)), onCompleteAsync);
    }

    /// <summary>
    /// Saves <paramref name="snapshot"/> with the chain head at its sequence number (<c>LastSequenceNr</c>, as Akka does). When that
    /// head is not known here (a write the journal rejected moved the number on) the snapshot is skipped: one without the head
    /// would make the next recovery take the events after it for a broken chain, and recovery without it only replays more.
    /// </summary>
    public new void SaveSnapshot(object snapshot)
    {
        EnsureTip();
        var known = _confirmedSeq == LastSequenceNr;
        if (!known && _confirmedHash is not null)
        {
            Context.GetLogger().Warning("Snapshot of {0} at {1} skipped: the chain head there is not known (last confirmed {2})",
                PersistenceId, LastSequenceNr, _confirmedSeq);
            return;
        }

        base.SaveSnapshot(new ChainedSnapshot(LastSequenceNr, known ? _confirmedHash : null, snapshot));
    }

    private static long Last(ChainedEvent[] chained) => chained.Length == 0 ? -1 : chained[^1].SequenceNr;
}
