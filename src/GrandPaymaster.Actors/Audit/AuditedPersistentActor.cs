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
/// Snapshots are signed with the node's audit key and are not trusted otherwise: an unsigned one is set aside (recovery replays
/// the whole journal), and one whose signature or chain head does not hold fails the recovery (see <c>Offered</c>).
/// After each persisted write the chain head goes to the node's checkpoint collector and the write's latency (Persist call to
/// handler) to <see cref="JournalWriteLatency"/>.
/// </para>
/// </summary>
public abstract class AuditedPersistentActor : ReceivePersistentActor
{
    private ChainCursor? _recovery;

    // A verified signed snapshot's (sequence number, chain head), until the first replayed event is checked against it.
    private (long Seq, byte[]? Hash)? _snapshotHead;
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

    /// <summary>Registers the one recovery handler of its own: a refused snapshot fails recovery inside Akka's recovery path.</summary>
    protected AuditedPersistentActor()
    {
        Recover<SnapshotRefused>(refused => throw refused.Exception);
    }

    /// <summary>Unwraps chained snapshots and replayed events before Akka hands them to the recovery handlers.</summary>
    protected override bool AroundReceive(Receive receive, object message) => message switch
    {
        ReplayedMessage replayed => base.AroundReceive(receive, Replayed(replayed)),
        LoadSnapshotResult { Snapshot: { } selected } result => base.AroundReceive(receive, Offered(selected, result.ToSequenceNr)),
        _ => base.AroundReceive(receive, message),
    };

    /// <summary>
    /// What recovery makes of the snapshot the store offers (README "Audit log"). With an audit key (every node): a signed snapshot
    /// whose signature holds is used; an unsigned one (written before snapshots were signed, or with its signature stripped) is set
    /// aside and the entity recovers from the whole journal (nothing is deleted from it, so that is the same state, only slower); a
    /// signed one whose signature fails, or (below, at the first replayed event) whose chain head the next event does not link to,
    /// fails the recovery: the entity stops with an error naming its persistence id and the sequence number, and the fault goes to
    /// the node's recent faults. Without an audit key (actor tests without <c>gpm.audit.directory</c>) nothing is signed and
    /// nothing can be checked, and snapshots are used as they are.
    /// </summary>
    private object Offered(SelectedSnapshot selected, long toSequenceNr)
    {
        var seq = selected.Metadata.SequenceNr;
        var key = Audit.Key;
        var fromJournal = new LoadSnapshotResult(null, toSequenceNr);
        if (selected.Snapshot is not ChainedSnapshot chained)
        {
            if (key is not null) return Unsigned(seq, fromJournal);
            RecoveryChain.StartAfterSnapshot(seq, null);
            return new LoadSnapshotResult(selected, toSequenceNr);
        }

        if (key is not null)
        {
            if (chained.Signature is null) return Unsigned(seq, fromJournal);
            if (chained.SequenceNr != seq || !key.VerifySnapshot(PersistenceId, chained))
                return Refuse(seq, chained.SequenceNr != seq
                    ? $"the snapshot stored at {seq} was signed for {chained.SequenceNr}; the row was moved"
                    : "the snapshot's signature does not verify with this node's audit key: its state, chain head or signature was altered (or it was signed with another key)");
            _snapshotHead = (seq, chained.Hash);
        }
        else if (chained.SequenceNr != seq)
            Fault(RecoveryChain.Report(seq, "checkpoint_mismatch", $"the snapshot at {seq} carries the chain head of {chained.SequenceNr}"));

        object state;
        try
        {
            state = chained.State;
        }
        catch (Exception e) when (e is System.Runtime.Serialization.SerializationException or System.Text.Json.JsonException or NotSupportedException)
        {
            return Refuse(seq, "the snapshot's state cannot be read: " + e.Message);
        }

        RecoveryChain.StartAfterSnapshot(seq, chained.Hash);
        return new LoadSnapshotResult(new SelectedSnapshot(selected.Metadata, state), toSequenceNr);
    }

    private LoadSnapshotResult Unsigned(long seq, LoadSnapshotResult fromJournal)
    {
        Context.GetLogger().Warning("Snapshot of {0} at {1} is not signed (written before snapshots were signed, or its signature was removed): " +
                                    "not trusted; recovering from the whole journal", PersistenceId, seq);
        return fromJournal;
    }

    /// <summary>Fails the recovery the way Akka fails a snapshot it cannot load: OnRecoveryFailure, then the actor stops.</summary>
    private LoadSnapshotFailed Refuse(long seq, string problem) => new(RefusalOf(seq, problem));

    private SnapshotRefusedException RefusalOf(long seq, string problem)
    {
        var fault = new ChainFault(PersistenceId, seq, "snapshot_invalid", problem);
        RecoveryChain.Report(seq, fault.Code, problem);
        Context.GetLogger().Error("Audit: the snapshot of {0} at sequence number {1} is refused and the entity does not recover: {2}",
            PersistenceId, seq, problem);
        Audit.ReportFault(fault);
        return new SnapshotRefusedException(fault);
    }

    private ReplayedMessage Replayed(ReplayedMessage replayed)
    {
        var persistent = replayed.Persistent;
        var fault = RecoveryChain.Next(persistent.SequenceNr, persistent.Payload);
        if (_snapshotHead is { Seq: var seq })
        {
            _snapshotHead = null;
            // The signed head must be the previous hash of the event after the snapshot; else the snapshot is of another history
            // than this journal (or the journal up to it was rewritten and re-hashed): neither is a state to continue from.
            if (persistent.SequenceNr == seq + 1 && persistent.Payload is ChainedEvent first && fault?.Code == "broken_link")
                return new ReplayedMessage(persistent.WithPayload(new SnapshotRefused(RefusalOf(seq,
                    $"the signed chain head of the snapshot is not the previous hash of event {seq + 1} ({ChainHash.Hex(first.PrevHash)[..12]}…): " +
                    "the snapshot does not belong to this journal, or the journal up to it was rewritten"))));
        }

        Fault(fault);
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
    /// Saves <paramref name="snapshot"/> with the chain head at its sequence number (<c>LastSequenceNr</c>, as Akka does), signed with
    /// the node's audit key over (persistence id, sequence number, chain head, SHA-256 of the state's bytes) when the node has one.
    /// When that head is not known here (a write the journal rejected moved the number on) the snapshot is skipped: one without the
    /// head would make the next recovery take the events after it for a broken chain, and recovery without it only replays more.
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

        var chained = new ChainedSnapshot(LastSequenceNr, known ? _confirmedHash : null, snapshot);
        base.SaveSnapshot(Audit.Key is { } key ? chained.SignedBy(key, PersistenceId) : chained);
    }

    private static long Last(ChainedEvent[] chained) => chained.Length == 0 ? -1 : chained[^1].SequenceNr;

    /// <summary>Replaces a replayed event to fail the recovery inside Akka's replay (its handler throws).</summary>
    private sealed record SnapshotRefused(SnapshotRefusedException Exception);
}

/// <summary>Why an entity's recovery failed: its snapshot is not to be trusted (<see cref="Fault"/> names the persistence id and sequence number).</summary>
public sealed class SnapshotRefusedException(ChainFault fault)
    : Exception($"Audit: the snapshot of {fault.PersistenceId} at sequence number {fault.SequenceNr} is refused: {fault.Problem}")
{
    public ChainFault Fault { get; } = fault;
}
