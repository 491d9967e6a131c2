using System.Collections.Concurrent;

namespace GrandPaymaster.Actors.Audit;

/// <summary>One signed checkpoint entry: the chain of <paramref name="PersistenceId"/> had <paramref name="Hash"/> at <paramref name="SequenceNr"/>.</summary>
public sealed record CheckpointEntry(string PersistenceId, long SequenceNr, byte[] Hash);

/// <summary>
/// The chain heads written on this node since the last checkpoint: each entity reports its (persistence id, sequence number,
/// hash) after each persisted batch, overwriting its previous report. Bounded by the number of entities that wrote since the
/// last checkpoint (one entry each), and emptied by every checkpoint.
/// </summary>
public sealed class CheckpointCollector
{
    private readonly ConcurrentDictionary<string, CheckpointEntry> _changed = new(StringComparer.Ordinal);

    public int Count => _changed.Count;

    public void Report(string persistenceId, long sequenceNr, byte[] hash) =>
        _changed.AddOrUpdate(persistenceId, static (id, a) => new CheckpointEntry(id, a.sequenceNr, a.hash),
            static (id, old, a) => a.sequenceNr >= old.SequenceNr ? new CheckpointEntry(id, a.sequenceNr, a.hash) : old, (sequenceNr, hash));

    /// <summary>Takes the heads reported since the last drain (a report racing the drain stays for the next one).</summary>
    public IReadOnlyList<CheckpointEntry> Drain()
    {
        var taken = new List<CheckpointEntry>(_changed.Count);
        foreach (var pair in _changed)
            if (_changed.TryRemove(pair)) taken.Add(pair.Value);
        taken.Sort((a, b) => string.CompareOrdinal(a.PersistenceId, b.PersistenceId));
        return taken;
    }
}
