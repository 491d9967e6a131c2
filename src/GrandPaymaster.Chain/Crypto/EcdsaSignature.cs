using System.Numerics;

namespace GrandPaymaster.Chain.Crypto;

/// <summary>
/// A secp256k1 ECDSA signature with the recovery id (0 or 1: the parity of R's y) that lets a
/// verifier recover the signer's public key, which is how Ethereum identifies a sender.
/// </summary>
public readonly record struct EcdsaSignature(BigInteger R, BigInteger S, int RecoveryId);
