using System.Numerics;
using System.Security.Cryptography;
using GrandPaymaster.Chain.Encoding;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math.EC;
using Org.BouncyCastle.Math.EC.Multiplier;
using Org.BouncyCastle.Security;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace GrandPaymaster.Chain.Crypto;

/// <summary>
/// A secp256k1 private key: signs 32-byte hashes deterministically (RFC 6979) with low-s
/// signatures as Ethereum requires (EIP-2), and recovers signer addresses from signatures.
/// </summary>
public sealed class EthKey
{
    /// <summary>Size of a private key in bytes.</summary>
    public const int Size = 32;

    private static readonly X9ECParameters Curve = CustomNamedCurves.GetByName("secp256k1");
    private static readonly ECDomainParameters Domain = new(Curve.Curve, Curve.G, Curve.N, Curve.H);
    private static readonly BcBigInteger HalfOrder = Curve.N.ShiftRight(1);

    private readonly BcBigInteger _d;
    private readonly byte[] _publicKey;

    private EthKey(BcBigInteger d)
    {
        _d = d;
        var point = new FixedPointCombMultiplier().Multiply(Domain.G, d).Normalize();
        _publicKey = point.GetEncoded(false)[1..];
        Address = EthAddress.FromPublicKey(_publicKey);
    }

    /// <summary>The order n of the secp256k1 group; valid keys and signature scalars lie in 1..n-1.</summary>
    public static BigInteger CurveOrder { get; } = ToSystem(Curve.N);

    /// <summary>The uncompressed public key, 64 bytes (x || y) without the 0x04 marker; a fresh copy each time.</summary>
    public byte[] PublicKey => _publicKey.ToArray();

    /// <summary>The account address this key controls.</summary>
    public EthAddress Address { get; }

    /// <summary>A key from its 32 big-endian bytes.</summary>
    /// <exception cref="ArgumentException">Not 32 bytes, or not in 1..n-1.</exception>
    public static EthKey FromBytes(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != Size)
            throw new ArgumentException($"A private key is {Size} bytes, got {privateKey.Length}.", nameof(privateKey));
        var d = new BcBigInteger(1, privateKey);
        if (!IsScalarInRange(d))
            throw new ArgumentException("A private key must lie in 1..n-1 of secp256k1.", nameof(privateKey));
        return new EthKey(d);
    }

    /// <summary>A key from 64 hex digits, with or without <c>0x</c>.</summary>
    public static EthKey FromHex(string privateKeyHex) => FromBytes(Hex.Decode(privateKeyHex));

    /// <summary>
    /// A fresh uniformly random key. Leave <paramref name="random"/> null (or pass a
    /// <see cref="SecureRandom"/>) for real keys; a seeded <see cref="Random"/> is for tests only.
    /// </summary>
    public static EthKey Generate(Random? random = null)
    {
        random ??= new SecureRandom();
        var buffer = new byte[Size];
        // Rejection sampling keeps the distribution uniform; a retry is needed with odds ~2^-128.
        while (true)
        {
            random.NextBytes(buffer);
            var d = new BcBigInteger(1, buffer);
            if (IsScalarInRange(d))
                return new EthKey(d);
        }
    }

    /// <summary>Signs a 32-byte hash; the same key and hash always give the same signature.</summary>
    public EcdsaSignature Sign(ReadOnlySpan<byte> hash)
    {
        RequireHash(hash);
        var signer = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
        signer.Init(true, new ECPrivateKeyParameters(_d, Domain));
        var rs = signer.GenerateSignature(hash.ToArray());
        BcBigInteger r = rs[0], s = rs[1];
        // (r, s) and (r, n-s) both verify; Ethereum accepts only the low one. Negating s
        // corresponds to negating R, which flips y's parity, so the recovery id is found
        // below against the final s rather than carried over from the raw signature.
        if (s.CompareTo(HalfOrder) > 0)
            s = Curve.N.Subtract(s);
        var candidate = new EcdsaSignature(ToSystem(r), ToSystem(s), 0);
        for (var recoveryId = 0; recoveryId < 2; recoveryId++)
        {
            var recovered = TryRecoverPublicKey(hash, candidate with { RecoveryId = recoveryId });
            if (recovered is not null && recovered.AsSpan().SequenceEqual(_publicKey))
                return candidate with { RecoveryId = recoveryId };
        }
        // Only when R.x >= n (odds ~2^-128), which Ethereum's v cannot express.
        throw new CryptographicException("Signature needs a recovery id above 1, which Ethereum cannot encode.");
    }

    /// <summary>The address whose key made <paramref name="signature"/> over <paramref name="hash"/>.</summary>
    /// <exception cref="CryptographicException">The signature is out of range or recovers to no key.</exception>
    public static EthAddress Recover(ReadOnlySpan<byte> hash, EcdsaSignature signature) =>
        EthAddress.FromPublicKey(RecoverPublicKey(hash, signature));

    /// <summary>The 64-byte public key recovered from a signature (SEC 1 v2, section 4.1.6).</summary>
    /// <exception cref="CryptographicException">The signature is out of range or recovers to no key.</exception>
    public static byte[] RecoverPublicKey(ReadOnlySpan<byte> hash, EcdsaSignature signature)
    {
        RequireHash(hash);
        return TryRecoverPublicKey(hash, signature)
            ?? throw new CryptographicException("Signature does not recover to a public key.");
    }

    /// <summary>Never shows the secret.</summary>
    public override string ToString() => $"EthKey({Address})";

    private static byte[]? TryRecoverPublicKey(ReadOnlySpan<byte> hash, EcdsaSignature signature)
    {
        if (signature.R.Sign <= 0 || signature.S.Sign <= 0 || signature.RecoveryId is < 0 or > 3)
            return null;
        var r = ToBouncy(signature.R);
        var s = ToBouncy(signature.S);
        var n = Curve.N;
        if (!IsScalarInRange(r) || !IsScalarInRange(s))
            return null;

        // R's x is r, or r + n for ids 2 and 3; its y parity is the id's low bit.
        var x = r.Add(n.Multiply(BcBigInteger.ValueOf(signature.RecoveryId / 2)));
        if (x.CompareTo(Curve.Curve.Field.Characteristic) >= 0)
            return null;
        var compressed = new byte[1 + Size];
        compressed[0] = (byte)(0x02 | (signature.RecoveryId & 1));
        var xBytes = x.ToByteArrayUnsigned();
        xBytes.CopyTo(compressed.AsSpan(compressed.Length - xBytes.Length));
        ECPoint bigR;
        try
        {
            bigR = Curve.Curve.DecodePoint(compressed);
        }
        catch (ArgumentException)
        {
            return null; // x is not on the curve
        }

        // Q = r^-1 (sR - eG); secp256k1 has cofactor 1, so R needs no order check.
        var e = new BcBigInteger(1, hash);
        var rInverse = r.ModInverse(n);
        var u1 = e.Negate().Multiply(rInverse).Mod(n);
        var u2 = s.Multiply(rInverse).Mod(n);
        var q = ECAlgorithms.SumOfTwoMultiplies(Domain.G, u1, bigR, u2).Normalize();
        return q.IsInfinity ? null : q.GetEncoded(false)[1..];
    }

    private static bool IsScalarInRange(BcBigInteger value) =>
        value.SignValue > 0 && value.CompareTo(Curve.N) < 0;

    private static void RequireHash(ReadOnlySpan<byte> hash)
    {
        if (hash.Length != Keccak256.Size)
            throw new ArgumentException($"A signed hash is {Keccak256.Size} bytes, got {hash.Length}.", nameof(hash));
    }

    private static BcBigInteger ToBouncy(BigInteger value) =>
        new(1, value.ToByteArray(isUnsigned: true, isBigEndian: true));

    private static BigInteger ToSystem(BcBigInteger value) =>
        new(value.ToByteArrayUnsigned(), isUnsigned: true, isBigEndian: true);
}
