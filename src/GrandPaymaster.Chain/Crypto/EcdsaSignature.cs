using System.Numerics;

namespace GrandPaymaster.Chain.Crypto;

/// <summary>
/// A secp256k1 ECDSA signature with the recovery id (0 or 1: the parity of R's y) that lets a
/// verifier recover the signer's public key, which is how Ethereum identifies a sender.
/// </summary>
public readonly record struct EcdsaSignature(BigInteger R, BigInteger S, int RecoveryId)
{
    /// <summary>The 65-byte r ‖ s ‖ v form wallets produce and contracts take (v = 27 or 28).</summary>
    public byte[] ToRsv()
    {
        var rsv = new byte[65];
        R.TryWriteBytes(rsv.AsSpan(32 - R.GetByteCount(isUnsigned: true), R.GetByteCount(isUnsigned: true)), out _, isUnsigned: true, isBigEndian: true);
        S.TryWriteBytes(rsv.AsSpan(64 - S.GetByteCount(isUnsigned: true), S.GetByteCount(isUnsigned: true)), out _, isUnsigned: true, isBigEndian: true);
        rsv[64] = (byte)(27 + RecoveryId);
        return rsv;
    }

    /// <summary>Reads the 65-byte r ‖ s ‖ v form; v may be 27/28 or 0/1.</summary>
    public static EcdsaSignature FromRsv(ReadOnlySpan<byte> rsv)
    {
        if (rsv.Length != 65) throw new ArgumentException($"A signature is 65 bytes, got {rsv.Length}.", nameof(rsv));
        var v = rsv[64];
        return new EcdsaSignature(new BigInteger(rsv[..32], isUnsigned: true, isBigEndian: true), new BigInteger(rsv[32..64], isUnsigned: true, isBigEndian: true),
            v >= 27 ? v - 27 : v);
    }
}
