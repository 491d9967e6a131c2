using System.Numerics;
using GrandPaymaster.Chain.Crypto;

namespace GrandPaymaster.Chain.Tests.Contracts;

/// <summary>A small hand-written ABI encoder for the contract tests: independent of the code under test.</summary>
internal static class TestAbi
{
    /// <summary>The 4-byte selector of a function signature, then its encoded arguments.</summary>
    public static byte[] Call(string signature, byte[] arguments) => [.. Keccak256.Hash(System.Text.Encoding.ASCII.GetBytes(signature))[..4], .. arguments];

    /// <summary>A dynamic <c>bytes</c> value: its length, then the bytes padded to whole words (the offset is the caller's).</summary>
    public static byte[] Bytes(byte[] value) => [.. Word(value.Length), .. value, .. new byte[(32 - value.Length % 32) % 32]];

    public static byte[] Word(EthAddress address) => [.. new byte[12], .. address.ToArray()];

    public static byte[] Word(BigInteger value)
    {
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        return [.. new byte[32 - bytes.Length], .. bytes];
    }

    /// <summary>A 65-byte r ‖ s ‖ v signature (v 27/28), as wallets and the forwarder take it.</summary>
    public static byte[] Signature(EcdsaSignature s) => [.. Word(s.R), .. Word(s.S), (byte)(27 + s.RecoveryId)];
}
