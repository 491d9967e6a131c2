using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace GrandPaymaster.Actors.Audit;

/// <summary>
/// The hash chain of one persistence id (DESIGN.md §4):
/// <c>Hash = SHA-256(PrevHash ‖ SeqNr (8 bytes big-endian) ‖ manifest (UTF-8) ‖ 0x00 ‖ payload)</c>, where the payload is the
/// event's <see cref="Serialization.PaymasterSerializer"/> bytes exactly as stored and the first event's PrevHash is
/// <see cref="Genesis"/> (32 zero bytes).
/// </summary>
public static class ChainHash
{
    public const int Size = 32;

    /// <summary>PrevHash of a chain's first event (32 zero bytes). Callers must not write into it.</summary>
    public static ReadOnlySpan<byte> Genesis => GenesisBytes;

    private static readonly byte[] GenesisBytes = new byte[Size];

    public static byte[] Compute(ReadOnlySpan<byte> prevHash, long sequenceNr, string manifest, ReadOnlySpan<byte> payload)
    {
        if (prevHash.Length != Size) throw new ArgumentException($"A previous hash has {Size} bytes, not {prevHash.Length}.", nameof(prevHash));
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(prevHash);
        Span<byte> seq = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(seq, sequenceNr);
        sha.AppendData(seq);
        sha.AppendData(Encoding.UTF8.GetBytes(manifest));
        sha.AppendData([0]);
        sha.AppendData(payload);
        return sha.GetHashAndReset();
    }

    public static string Hex(ReadOnlySpan<byte> hash) => Convert.ToHexStringLower(hash);
}
