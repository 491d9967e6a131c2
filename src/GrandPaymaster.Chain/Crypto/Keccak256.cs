using Org.BouncyCastle.Crypto.Digests;

namespace GrandPaymaster.Chain.Crypto;

/// <summary>
/// Keccak-256 as Ethereum uses it: the original Keccak padding, not the NIST SHA3-256 one,
/// so the two give different digests for the same input.
/// </summary>
public static class Keccak256
{
    /// <summary>Size of a digest in bytes.</summary>
    public const int Size = 32;

    /// <summary>The 32-byte Keccak-256 digest of <paramref name="data"/>.</summary>
    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        var digest = new KeccakDigest(256);
        digest.BlockUpdate(data);
        var output = new byte[Size];
        digest.DoFinal(output);
        return output;
    }
}
