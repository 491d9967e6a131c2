namespace GrandPaymaster.Actors.Audit;

/// <summary>
/// What is wrong with one event of a chain (the first found): <paramref name="Code"/> is stable (<c>missing</c>, <c>reordered</c>,
/// <c>hash_mismatch</c>, <c>broken_link</c>, <c>unchained</c>, <c>checkpoint_mismatch</c>, <c>truncated</c>, <c>unreadable</c>,
/// <c>checkpoint_invalid</c>, <c>checkpoints_missing</c>, <c>snapshot_invalid</c>), <paramref name="Problem"/> says it for a person.
/// </summary>
public sealed record ChainFault(string PersistenceId, long SequenceNr, string Code, string Problem);

/// <summary>
/// Walks one persistence id's events in sequence order and checks each link: the stored sequence number is the next one (a
/// deleted row leaves a gap), the envelope's own sequence number is the row's (a moved row no longer matches), the hash is the
/// hash of the stored bytes (an edited row), the previous hash is the last event's hash (a replaced or re-linked row), and no
/// plain event follows a chained one. Events written before the chain existed (plain, at the start) are a legacy prefix.
/// Memory is constant: the verifier and every recovering entity use one per persistence id.
/// </summary>
public sealed class ChainCursor(string persistenceId)
{
    private byte[] _lastHash = ChainHash.Genesis.ToArray();

    public string PersistenceId => persistenceId;

    /// <summary>The last sequence number seen (or the snapshot's).</summary>
    public long LastSequenceNr { get; private set; }

    /// <summary>The last chained event's hash (<see cref="ChainHash.Genesis"/> while no chained event was seen).</summary>
    public byte[] LastHash => _lastHash;

    /// <summary>Whether a chained event (or a snapshot carrying a hash) has been seen.</summary>
    public bool Chained { get; private set; }

    public long LegacyEvents { get; private set; }

    public long Events { get; private set; }

    /// <summary>The first fault found; later events are still counted but no longer checked.</summary>
    public ChainFault? Fault { get; private set; }

    /// <summary>Starts after a snapshot at <paramref name="sequenceNr"/> whose chain hash is <paramref name="hash"/> (null: no chain yet).</summary>
    public void StartAfterSnapshot(long sequenceNr, byte[]? hash)
    {
        LastSequenceNr = sequenceNr;
        Chained = hash is not null;
        _lastHash = hash ?? ChainHash.Genesis.ToArray();
    }

    /// <summary>Checks the event stored at <paramref name="storedSequenceNr"/>; the fault if it is the first one.</summary>
    public ChainFault? Next(long storedSequenceNr, object storedEvent)
    {
        Events++;
        if (Fault is not null)
        {
            LastSequenceNr = storedSequenceNr;
            return null;
        }

        var expected = LastSequenceNr + 1;
        string? problem = null, code = null;
        var at = storedSequenceNr;
        if (storedSequenceNr > expected)
        {
            (code, problem) = ("missing", $"missing: the journal has no event {expected} (the next stored one is {storedSequenceNr}); a row was deleted");
            at = expected;
        }
        else if (storedSequenceNr < expected)
            (code, problem) = ("reordered", $"sequence number {storedSequenceNr} stored after {LastSequenceNr}; rows were reordered");
        else if (storedEvent is ChainedEvent chained)
        {
            if (chained.SequenceNr != storedSequenceNr)
                (code, problem) = ("reordered", $"stored at sequence number {storedSequenceNr} but hashed as {chained.SequenceNr}; rows were reordered");
            else if (!chained.HashMatches(storedSequenceNr))
                (code, problem) = ("hash_mismatch", "payload hash mismatch: the stored bytes are not the bytes that were hashed; the row was edited");
            else if (!chained.PrevHash.AsSpan().SequenceEqual(_lastHash))
                (code, problem) = ("broken_link", Chained
                    ? "broken link: its previous hash is not the hash of the event before it; a row was replaced or removed"
                    : "broken link: the chain's first event does not start from the genesis hash");
            if (problem is null)
            {
                _lastHash = chained.Hash;
                Chained = true;
            }
        }
        else if (Chained)
            (code, problem) = ("unchained", "a plain (unchained) event after chained ones: the row was written around the chain");
        else
            LegacyEvents++;

        LastSequenceNr = storedSequenceNr;
        if (problem is null) return null;
        Fault = new ChainFault(persistenceId, at, code!, problem);
        return Fault;
    }

    /// <summary>A fault found outside the walk (a signed checkpoint the journal does not match); kept if it is the first.</summary>
    public ChainFault? Report(long sequenceNr, string code, string problem) =>
        Fault is null ? Fault = new ChainFault(persistenceId, sequenceNr, code, problem) : null;
}
