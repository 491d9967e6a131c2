using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace GrandPaymaster.Actors.Audit;

/// <summary>The verifier's answer: whether everything checked out, what it walked, and the first bad event (or checkpoint line).</summary>
public sealed record AuditVerification(bool Ok, long Entities, long Events, long LegacyEvents, long Checkpoints, ChainFault? FirstBad, long Snapshots = 0);

/// <summary>
/// Walks the whole journal through Persistence.Query (the SQL read journal): every persistence id in name order, each one's events
/// streamed in sequence order through a <see cref="ChainCursor"/> (constant memory per id), and compares the chain heads with the
/// node's signed checkpoint file (the latest head per id: the chain hash there commits to every event before it). It names the
/// first bad event: an edited row (payload hash mismatch), a deleted row (sequence gap), moved rows (stored sequence number ≠ hashed
/// one), a journal that ends before or differs from a signed checkpoint (truncated, or rewritten and re-hashed), and a checkpoint
/// file line whose signature or link does not hold. It also checks each id's latest snapshot in the snapshot store (through Akka's
/// snapshot store API, so any plugin): a signed one must carry the audit key's signature (checked with the public key) and the chain
/// head of the journal's event at its sequence number (<c>snapshot_invalid</c>); unsigned ones are counted, not trusted by recovery.
/// A checkpoint file that is absent or empty while the journal holds chained events written longer ago than the checkpoint interval
/// is <c>checkpoints_missing</c> (deleted). Memory: one head per persistence id of the checkpoint file plus the ids' names.
/// </summary>
public sealed class AuditVerifier(ActorSystem system, TimeProvider? clock = null)
{
    private static readonly TimeSpan SnapshotTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Sharding's own ids (remember-entities, coordinators) are not entities of ours; they live in their own journal anyway.</summary>
    public static bool IsInternal(string persistenceId) =>
        persistenceId.StartsWith("/sharding/", StringComparison.Ordinal) || persistenceId.StartsWith("/system/", StringComparison.Ordinal);

    public async Task<AuditVerification> VerifyAsync(CancellationToken ct = default)
    {
        var audit = AuditLog.Get(system);
        var heads = new Dictionary<string, CheckpointEntry>(StringComparer.Ordinal);
        long records = 0;
        CheckpointProblem? checkpointProblem = null;
        if (audit.CheckpointPath is { } path && audit.Key is { } key)
        {
            using var publicKey = key.PublicKey();
            foreach (var record in CheckpointFile.Read(path, publicKey, p => checkpointProblem = p))
            {
                records++;
                foreach (var head in record.Entries)
                    if (!heads.TryGetValue(head.PersistenceId, out var known) || head.SequenceNr >= known.SequenceNr)
                        heads[head.PersistenceId] = head;
            }
        }

        var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var materializer = system.Materializer();
        var ids = (await journal.CurrentPersistenceIds().RunWith(Sink.Seq<string>(), materializer))
            .Where(id => !IsInternal(id)).Distinct().Order(StringComparer.Ordinal).ToArray();

        var snapshotStore = Akka.Persistence.Persistence.Instance.Apply(system).SnapshotStoreFor(null);
        using var snapshotKey = audit.Key?.PublicKey();
        // Checkpoints deleted: only worth looking for when the file is absent or empty (then the oldest chained event's write time).
        var lookForOldEvents = audit.CheckpointPath is not null && records == 0 && checkpointProblem is null;
        DateTimeOffset? oldestChained = null;
        ChainFault? first = null;
        long events = 0, legacy = 0, snapshots = 0;
        foreach (var id in ids)
        {
            ct.ThrowIfCancellationRequested();
            heads.Remove(id, out var head);
            var cursor = new ChainCursor(id);
            var (snapshot, snapshotFault) = await LatestSnapshotAsync(snapshotStore, id, snapshotKey, ct);
            if (snapshot is not null) snapshots++;
            try
            {
                await journal.CurrentEventsByPersistenceId(id, 0, long.MaxValue).RunForeach(envelope =>
                {
                    cursor.Next(envelope.SequenceNr, envelope.Event);
                    if (lookForOldEvents && oldestChained is null && envelope.Event is ChainedEvent && WrittenAt(envelope.Timestamp) is { } at)
                        oldestChained = at;
                    if (snapshot is { Signature: not null } && snapshotFault is null && envelope.SequenceNr == snapshot.SequenceNr &&
                        !(envelope.Event is ChainedEvent atSnapshot
                            ? snapshot.Hash is not null && atSnapshot.Hash.AsSpan().SequenceEqual(snapshot.Hash)
                            : snapshot.Hash is null))
                        snapshotFault = SnapshotInvalid(id, snapshot.SequenceNr,
                            "the signed snapshot's chain head is not the journal's hash at its sequence number: the journal was rewritten, or the snapshot is of another history");
                    if (head is not null && envelope.SequenceNr == head.SequenceNr && cursor.Fault is null &&
                        !(envelope.Event is ChainedEvent chained && chained.Hash.AsSpan().SequenceEqual(head.Hash)))
                        cursor.Report(envelope.SequenceNr, "checkpoint_mismatch",
                            "differs from the signed checkpoint: the chain up to here was rewritten (and re-hashed)");
                }, materializer).WaitAsync(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                cursor.Report(cursor.LastSequenceNr + 1, "unreadable", $"the row after {cursor.LastSequenceNr} cannot be read: {e.GetBaseException().Message}");
            }

            if (head is not null && cursor.LastSequenceNr < head.SequenceNr)
                cursor.Report(cursor.LastSequenceNr + 1, "truncated",
                    $"the journal ends at {cursor.LastSequenceNr} but a signed checkpoint has this chain at {head.SequenceNr}; rows were deleted");
            if (snapshot is { Signature: not null } && snapshotFault is null && cursor.LastSequenceNr < snapshot.SequenceNr)
                snapshotFault = SnapshotInvalid(id, snapshot.SequenceNr,
                    $"the journal ends at {cursor.LastSequenceNr}, before the signed snapshot at {snapshot.SequenceNr}; rows were deleted");
            events += cursor.Events;
            legacy += cursor.LegacyEvents;
            first ??= cursor.Fault is { } fault && (snapshotFault is null || fault.SequenceNr <= snapshotFault.SequenceNr) ? fault : snapshotFault;
        }

        if (lookForOldEvents && oldestChained is { } oldest && (clock ?? TimeProvider.System).GetUtcNow() - oldest > audit.Interval)
            first ??= new ChainFault(CheckpointFile.FileName, 0, "checkpoints_missing",
                $"the checkpoint file is absent or empty, but the journal holds chained events written at {oldest:O}, more than one checkpoint " +
                $"interval ({audit.Interval}) ago: the signed checkpoints were deleted");

        // Checkpointed ids with no row left at all.
        foreach (var head in heads.Values.OrderBy(h => h.PersistenceId, StringComparer.Ordinal))
            first ??= new ChainFault(head.PersistenceId, 1, "truncated",
                $"the journal has no event of this id but a signed checkpoint has its chain at {head.SequenceNr}; rows were deleted");

        if (checkpointProblem is { } problem)
            first ??= new ChainFault(CheckpointFile.FileName, problem.Line, "checkpoint_invalid", problem.Problem);

        return new AuditVerification(first is null, ids.Length, events, legacy, records, first, snapshots);
    }

    /// <summary>The latest snapshot of <paramref name="id"/> (null: none, or not a chained one) and what is wrong with it.</summary>
    private static async Task<(ChainedSnapshot?, ChainFault?)> LatestSnapshotAsync(IActorRef store, string id, System.Security.Cryptography.ECDsa? key, CancellationToken ct)
    {
        object answer;
        try
        {
            answer = await store.Ask<object>(new LoadSnapshot(id, SnapshotSelectionCriteria.Latest, long.MaxValue), SnapshotTimeout, ct);
        }
        catch (AskTimeoutException)
        {
            return (null, SnapshotInvalid(id, 0, "the snapshot store did not answer"));
        }

        switch (answer)
        {
            case LoadSnapshotFailed failed:
                return (null, SnapshotInvalid(id, 0, "the latest snapshot cannot be read: " + failed.Cause.GetBaseException().Message));
            case LoadSnapshotResult { Snapshot: { Snapshot: ChainedSnapshot chained } selected }:
                var seq = selected.Metadata.SequenceNr;
                if (chained.Signature is null || key is null) return (chained, null);
                if (chained.SequenceNr != seq)
                    return (chained, SnapshotInvalid(id, seq, $"the snapshot stored at {seq} was signed for {chained.SequenceNr}; the row was moved"));
                return SnapshotSignature.Verify(id, chained, key)
                    ? (chained, null)
                    : (chained, SnapshotInvalid(id, seq, "the snapshot's signature does not verify with the audit key: its state, chain head or signature was altered"));
            default:
                return (null, null);
        }
    }

    private static ChainFault SnapshotInvalid(string id, long seq, string problem) => new(id, seq, "snapshot_invalid", problem);

    /// <summary>A journal row's write time: the SQL plugin stores <c>DateTime.UtcNow.Ticks</c>; milliseconds since 1970 are read too; 0 is unknown.</summary>
    private static DateTimeOffset? WrittenAt(long timestamp) => timestamp switch
    {
        <= 0 => null,
        > 100_000_000_000_000 when timestamp < DateTime.MaxValue.Ticks => new DateTimeOffset(timestamp, TimeSpan.Zero),
        < 10_000_000_000_000 => DateTimeOffset.FromUnixTimeMilliseconds(timestamp),
        _ => null,
    };
}
