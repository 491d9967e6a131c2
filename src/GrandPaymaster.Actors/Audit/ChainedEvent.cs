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
/// A snapshot with the chain's hash at its sequence number, so recovery from it continues the chain, and the audit key's signature
/// over both and the state's bytes (<see cref="SnapshotSignature"/>), so an edited state is not trusted. <see cref="Hash"/> is null
/// when no chained event preceded it (a journal written before the chain existed); <see cref="Signature"/> is null for a snapshot
/// written before snapshots were signed, or by a system without an audit key (unsigned-legacy). The state is kept as its stored
/// JSON (<see cref="StatePayload"/>, what the signature covers) and decoded on first use, so a verifier never decodes it.
/// </summary>
public sealed class ChainedSnapshot : IPaymasterMessage
{
    private object? _state;

    /// <summary>An unsigned chained snapshot of <paramref name="state"/>.</summary>
    public ChainedSnapshot(long sequenceNr, byte[]? hash, object state)
    {
        SequenceNr = sequenceNr;
        Hash = hash;
        _state = state;
        (StateManifest, StatePayload) = PaymasterSerializer.Encode(state);
    }

    internal ChainedSnapshot(long sequenceNr, byte[]? hash, string stateManifest, byte[] statePayload, byte[]? signature, object? state)
    {
        SequenceNr = sequenceNr;
        Hash = hash;
        StateManifest = stateManifest;
        StatePayload = statePayload;
        Signature = signature;
        _state = state;
    }

    public long SequenceNr { get; }
    public byte[]? Hash { get; }

    /// <summary>The state's manifest (the snapshot row's).</summary>
    public string StateManifest { get; }

    /// <summary>The state's serialized bytes (JSON) as written.</summary>
    public byte[] StatePayload { get; }

    /// <summary>The audit key's ECDSA P-256 signature (IEEE P1363) of <see cref="SnapshotSignature.Message"/>; null: unsigned-legacy.</summary>
    public byte[]? Signature { get; }

    /// <summary>The state itself; decoded from <see cref="StatePayload"/> on first use when read back.</summary>
    public object State => _state ??= PaymasterSerializer.Decode(StatePayload, StateManifest);

    /// <summary>This snapshot signed by <paramref name="key"/> as the snapshot of <paramref name="persistenceId"/>.</summary>
    public ChainedSnapshot SignedBy(AuditKey key, string persistenceId) =>
        new(SequenceNr, Hash, StateManifest, StatePayload, key.Sign(SnapshotSignature.Message(persistenceId, this)), _state);
}

/// <summary>
/// What a snapshot's signature covers: <c>"gpm.snapshot.v1" ‖ 0x00 ‖ persistence id (UTF-8) ‖ 0x00 ‖ sequence number (8 bytes
/// big-endian) ‖ 0 or 1 ‖ chain hash (32 bytes, if 1) ‖ state manifest (UTF-8) ‖ 0x00 ‖ SHA-256(state bytes)</c>, signed with the
/// node's audit key (the one that signs checkpoints; ECDSA P-256 / SHA-256). The persistence id is inside, so one entity's signed
/// snapshot cannot be copied to another; the chain hash is inside, so a signed snapshot is bound to the journal it was taken from.
/// Anyone with the public key (<c>audit/audit-key.pub.pem</c>) can check it.
/// </summary>
public static class SnapshotSignature
{
    private static readonly byte[] Domain = System.Text.Encoding.UTF8.GetBytes("gpm.snapshot.v1\0");

    public static byte[] Message(string persistenceId, ChainedSnapshot snapshot)
    {
        var stream = new MemoryStream();
        stream.Write(Domain);
        stream.Write(System.Text.Encoding.UTF8.GetBytes(persistenceId));
        stream.WriteByte(0);
        Span<byte> seq = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(seq, snapshot.SequenceNr);
        stream.Write(seq);
        stream.WriteByte(snapshot.Hash is null ? (byte)0 : (byte)1);
        if (snapshot.Hash is not null) stream.Write(snapshot.Hash);
        stream.Write(System.Text.Encoding.UTF8.GetBytes(snapshot.StateManifest));
        stream.WriteByte(0);
        stream.Write(System.Security.Cryptography.SHA256.HashData(snapshot.StatePayload));
        return stream.ToArray();
    }

    /// <summary>Whether <paramref name="snapshot"/> carries a signature of <paramref name="publicKey"/> as <paramref name="persistenceId"/>'s.</summary>
    public static bool Verify(string persistenceId, ChainedSnapshot snapshot, System.Security.Cryptography.ECDsa publicKey) =>
        snapshot.Signature is { } signature &&
        publicKey.VerifyData(Message(persistenceId, snapshot), signature, System.Security.Cryptography.HashAlgorithmName.SHA256);
}

/// <summary>
/// The compact binary layout of <see cref="ChainedEvent"/> and <see cref="ChainedSnapshot"/> (the row's manifest is the inner
/// message's own). A plain (pre-chain) row is JSON and starts with <c>{</c>; these start with a byte no JSON text starts with.
/// <code>
/// event:    0xA7 | version 1 | seq int64 BE | prevHash 32 | hash 32 | payload…
/// snapshot: 0xA8 | version 1 | seq int64 BE | 0 or 1 | hash 32 if 1 | payload…                      (unsigned)
/// snapshot: 0xA8 | version 2 | seq int64 BE | 0 or 1 | hash 32 if 1 | sigLen 1 | signature | payload…  (signed)
/// </code>
/// </summary>
public static class ChainEnvelope
{
    public const byte EventMagic = 0xA7;
    public const byte SnapshotMagic = 0xA8;
    private const byte Version = 1;
    private const byte SignedSnapshotVersion = 2;
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

    public static byte[] Write(ChainedSnapshot s)
    {
        var signed = s.Signature is not null;
        var header = 2 + 8 + 1 + (s.Hash is null ? 0 : ChainHash.Size) + (signed ? 1 + s.Signature!.Length : 0);
        var bytes = new byte[header + s.StatePayload.Length];
        bytes[0] = SnapshotMagic;
        bytes[1] = signed ? SignedSnapshotVersion : Version;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(2), s.SequenceNr);
        bytes[10] = s.Hash is null ? (byte)0 : (byte)1;
        s.Hash?.CopyTo(bytes, 11);
        if (signed)
        {
            var at = 11 + (s.Hash is null ? 0 : ChainHash.Size);
            bytes[at] = checked((byte)s.Signature!.Length);
            s.Signature.CopyTo(bytes, at + 1);
        }

        s.StatePayload.CopyTo(bytes, header);
        return bytes;
    }

    /// <summary>Reads an envelope; the inner event and the snapshot's state are decoded lazily.</summary>
    public static object Read(byte[] bytes, string manifest)
    {
        if (bytes.Length < 11 || !(bytes[1] == Version || (bytes[0] == SnapshotMagic && bytes[1] == SignedSnapshotVersion)))
            throw new System.Runtime.Serialization.SerializationException($"A chain envelope of '{manifest}' is truncated or of an unknown version.");
        var seq = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(2));
        if (bytes[0] == EventMagic)
        {
            if (bytes.Length < EventHeader) throw new System.Runtime.Serialization.SerializationException($"A chained '{manifest}' event is truncated.");
            return new ChainedEvent(seq, bytes[10..(10 + ChainHash.Size)], bytes[(10 + ChainHash.Size)..EventHeader], manifest, bytes[EventHeader..], null);
        }

        var hasHash = bytes[10] == 1;
        var start = 11 + (hasHash ? ChainHash.Size : 0);
        byte[]? signature = null;
        if (bytes[1] == SignedSnapshotVersion)
        {
            // A signed envelope whose signature is cut short reads as signed with an empty (never valid) signature, not as unsigned.
            var length = bytes.Length > start ? bytes[start] : 0;
            signature = bytes.Length >= start + 1 + length ? bytes[(start + 1)..(start + 1 + length)] : [];
            start = Math.Min(bytes.Length, start + 1 + length);
        }

        if (bytes.Length < start) throw new System.Runtime.Serialization.SerializationException($"A chained '{manifest}' snapshot is truncated.");
        return new ChainedSnapshot(seq, hasHash ? bytes[11..(11 + ChainHash.Size)] : null, manifest, bytes[start..], signature, null);
    }
}
