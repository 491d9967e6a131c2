using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace GrandPaymaster.Actors.Audit;

/// <summary>The verifier's answer: whether everything checked out, what it walked, and the first bad event (or checkpoint line).</summary>
public sealed record AuditVerification(bool Ok, long Entities, long Events, long LegacyEvents, long Checkpoints, ChainFault? FirstBad);

/// <summary>
/// Walks the whole journal through Persistence.Query (the SQL read journal): every persistence id in name order, each one's events
/// streamed in sequence order through a <see cref="ChainCursor"/> (constant memory per id), and compares the chain heads with the
/// node's signed checkpoint file (the latest head per id: the chain hash there commits to every event before it). It names the
/// first bad event: an edited row (payload hash mismatch), a deleted row (sequence gap), moved rows (stored sequence number ≠ hashed
/// one), a journal that ends before or differs from a signed checkpoint (truncated, or rewritten and re-hashed), and a checkpoint
/// file line whose signature or link does not hold. Memory: one head per persistence id of the checkpoint file plus the ids' names.
/// </summary>
public sealed class AuditVerifier(ActorSystem system)
{
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

        ChainFault? first = null;
        long events = 0, legacy = 0;
        foreach (var id in ids)
        {
            ct.ThrowIfCancellationRequested();
            heads.Remove(id, out var head);
            var cursor = new ChainCursor(id);
            try
            {
                await journal.CurrentEventsByPersistenceId(id, 0, long.MaxValue).RunForeach(envelope =>
                {
                    cursor.Next(envelope.SequenceNr, envelope.Event);
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
            events += cursor.Events;
            legacy += cursor.LegacyEvents;
            first ??= cursor.Fault;
        }

        // Checkpointed ids with no row left at all.
        foreach (var head in heads.Values.OrderBy(h => h.PersistenceId, StringComparer.Ordinal))
            first ??= new ChainFault(head.PersistenceId, 1, "truncated",
                $"the journal has no event of this id but a signed checkpoint has its chain at {head.SequenceNr}; rows were deleted");

        if (checkpointProblem is { } problem)
            first ??= new ChainFault(CheckpointFile.FileName, problem.Line, "checkpoint_invalid", problem.Problem);

        return new AuditVerification(first is null, ids.Length, events, legacy, records, first);
    }
}
