using System.Buffers.Binary;
using GrandPaymaster.Actors.Serialization;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Actors.Audit;

/// <summary>
/// A journaled event inside its link of the hash chain. The journal row keeps the event's own manifest (so SQL over the journal,
/// tags and event-type filters see the event type); the row's bytes are <see cref="ChainEnvelope"/>'s header followed by the
/// event's payload exactly as hashed, so a verifier hashes what is stored and never serializes again.
/// </summary>
public sealed class ChainedEvent : IPaymasterMessage
{
    private object? _event;

    internal ChainedEvent(long sequenceNr, byte[] prevHash, byte[] hash, string manifest, byte[] payload, object? @event)
    {
        SequenceNr = sequenceNr;
        PrevHash = prevHash;
        Hash = hash;
        Manifest = manifest;
        Payload = payload;
        _event = @event;
    }

    /// <summary>The sequence number the event was hashed with (a row moved to another number no longer matches it).</summary>
    public long SequenceNr { get; }

    public byte[] PrevHash { get; }
    public byte[] Hash { get; }

    /// <summary>The event's manifest (from the journal row when read back).</summary>
    public string Manifest { get; }

    /// <summary>The event's serialized bytes as written (JSON).</summary>
    public byte[] Payload { get; }

    /// <summary>The event itself; decoded from <see cref="Payload"/> on first use when read back (a verifier never needs it).</summary>
    public object Event => _event ??= PaymasterSerializer.Decode(Payload, Manifest);

    /// <summary>Whether <see cref="Hash"/> is the hash of this link as stored (payload, manifest, sequence number and previous hash).</summary>
    public bool HashMatches(long storedSequenceNr) =>
        ChainHash.Compute(PrevHash, storedSequenceNr, Manifest, Payload).AsSpan().SequenceEqual(Hash);

    public override string ToString() => $"ChainedEvent({Manifest} #{SequenceNr} {ChainHash.Hex(Hash)[..12]})";

    /// <summary>Links <paramref name="event"/> at <paramref name="sequenceNr"/> after <paramref name="prevHash"/>.</summary>
    public static ChainedEvent Link(object @event, long sequenceNr, byte[] prevHash)
    {
        var (manifest, payload) = PaymasterSerializer.Encode(@event);
        return new ChainedEvent(sequenceNr, prevHash, ChainHash.Compute(prevHash, sequenceNr, manifest, payload), manifest, payload, @event);
    }
}

/// <summary>
/// A snapshot with the chain's hash at its sequence number, so recovery from it continues the chain. <see cref="Hash"/> is null
/// when no chained event preceded it (a journal written before the chain existed).
/// </summary>
public sealed class ChainedSnapshot : IPaymasterMessage
{
    public ChainedSnapshot(long sequenceNr, byte[]? hash, object state)
    {
        SequenceNr = sequenceNr;
        Hash = hash;
        State = state;
    }

    public long SequenceNr { get; }
    public byte[]? Hash { get; }
    public object State { get; }
}

/// <summary>
/// The compact binary layout of <see cref="ChainedEvent"/> and <see cref="ChainedSnapshot"/> (the row's manifest is the inner
/// message's own). A plain (pre-chain) row is JSON and starts with <c>{</c>; these start with a byte no JSON text starts with.
/// <code>
/// event:    0xA7 | version 1 | seq int64 BE | prevHash 32 | hash 32 | payload…
/// snapshot: 0xA8 | version 1 | seq int64 BE | 0 or 1 | hash 32 if 1 | payload…
/// </code>
/// </summary>
public static class ChainEnvelope
{
    public const byte EventMagic = 0xA7;
    public const byte SnapshotMagic = 0xA8;
    private const byte Version = 1;
    private const int EventHeader = 2 + 8 + ChainHash.Size * 2;

    public static bool IsEnvelope(ReadOnlySpan<byte> bytes) => bytes.Length > 0 && bytes[0] is EventMagic or SnapshotMagic;

    public static byte[] Write(ChainedEvent e)
    {
        var bytes = new byte[EventHeader + e.Payload.Length];
        bytes[0] = EventMagic;
        bytes[1] = Version;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(2), e.SequenceNr);
        e.PrevHash.CopyTo(bytes, 10);
        e.Hash.CopyTo(bytes, 10 + ChainHash.Size);
        e.Payload.CopyTo(bytes, EventHeader);
        return bytes;
    }

    public static byte[] Write(ChainedSnapshot s, byte[] statePayload)
    {
        var header = 2 + 8 + 1 + (s.Hash is null ? 0 : ChainHash.Size);
        var bytes = new byte[header + statePayload.Length];
        bytes[0] = SnapshotMagic;
        bytes[1] = Version;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(2), s.SequenceNr);
        bytes[10] = s.Hash is null ? (byte)0 : (byte)1;
        s.Hash?.CopyTo(bytes, 11);
        statePayload.CopyTo(bytes, header);
        return bytes;
    }

    /// <summary>Reads an envelope; the inner event is decoded lazily, the snapshot's state at once.</summary>
    public static object Read(byte[] bytes, string manifest)
    {
        if (bytes.Length < 11 || bytes[1] != Version)
            throw new System.Runtime.Serialization.SerializationException($"A chain envelope of '{manifest}' is truncated or of an unknown version.");
        var seq = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(2));
        if (bytes[0] == EventMagic)
        {
            if (bytes.Length < EventHeader) throw new System.Runtime.Serialization.SerializationException($"A chained '{manifest}' event is truncated.");
            return new ChainedEvent(seq, bytes[10..(10 + ChainHash.Size)], bytes[(10 + ChainHash.Size)..EventHeader], manifest, bytes[EventHeader..], null);
        }

        var hasHash = bytes[10] == 1;
        var start = 11 + (hasHash ? ChainHash.Size : 0);
        if (bytes.Length < start) throw new System.Runtime.Serialization.SerializationException($"A chained '{manifest}' snapshot is truncated.");
        return new ChainedSnapshot(seq, hasHash ? bytes[11..start] : null, PaymasterSerializer.Decode(bytes[start..], manifest));
    }
}
