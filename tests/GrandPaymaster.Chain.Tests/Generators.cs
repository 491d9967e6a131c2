using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Transactions;

namespace GrandPaymaster.Chain.Tests;

/// <summary>A 32-byte message hash, kept distinct from arbitrary byte arrays.</summary>
public sealed record Hash32(byte[] Bytes);

/// <summary>FsCheck generators for keys, hashes and transactions.</summary>
public static class Generators
{
    private static Gen<byte[]> BytesOf(int length) =>
        Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), length);

    // Any width from 0 to 256 bits, so small, boundary and huge values all turn up.
    private static readonly Gen<BigInteger> Uint256 =
        Gen.Choose(0, 32).SelectMany(BytesOf).Select(b => new BigInteger(b, isUnsigned: true, isBigEndian: true));

    public static Arbitrary<Hash32> Hashes() => Arb.From(BytesOf(32).Select(b => new Hash32(b)));

    // A seed, not raw bytes, so every generated key is valid by construction.
    public static Arbitrary<EthKey> Keys() => Arb.From(Gen.Choose(int.MinValue, int.MaxValue).Select(seed => EthKey.Generate(new Random(seed))));

    public static Arbitrary<Eip1559Transaction> Eip1559Transactions() => Arb.From(
        from chainId in Uint256.Where(c => c > 0)
        from nonce in Gen.Choose(0, int.MaxValue)
        from tip in Uint256
        from maxFee in Uint256
        from gas in Uint256
        from to in Gen.OneOf(Gen.Constant<EthAddress?>(null), BytesOf(20).Select(b => (EthAddress?)new EthAddress(b)))
        from value in Uint256
        from dataLength in Gen.Choose(0, 100)
        from data in BytesOf(dataLength)
        select new Eip1559Transaction(chainId, nonce, tip, maxFee, gas, to, value, data));
}
