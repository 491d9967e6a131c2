using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Pools;

namespace GrandPaymaster.Domain.Tests.Simulation;

/// <summary>
/// A signed transaction as the fake chain sees it. <see cref="Kind"/> is null for a transaction the pool did not sign
/// (an outsider holding a worker's key); <see cref="QuoteId"/> names the quote whose call it carries or cancels.
/// </summary>
public sealed record SignedTx(
    string Hash,
    string Raw,
    Address Wallet,
    BigInteger Nonce,
    BigInteger MaxFeePerGas,
    BigInteger PriorityFeePerGas,
    AttemptKind? Kind,
    QuoteId? QuoteId,
    BigInteger GasLimit)
{
    /// <summary>An original or a speed-up: mining it runs the dApp user's call.</summary>
    public bool CarriesCall => Kind is AttemptKind.Original or AttemptKind.SpeedUp;
}

/// <summary>
/// Stands in for the host's keys: a transaction's hash is a digest of its contents (as on a real chain, so the same
/// request signs to the same hash whatever order a run signs in), and every signed transaction is remembered so the
/// fake chain and the invariants can tell what a hash or raw transaction is.
/// </summary>
public sealed class FakeSigner
{
    private const int SelfSendGas = 21_000;
    private readonly Dictionary<string, SignedTx> _byHash = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, SignedTx> _byRaw = new(StringComparer.Ordinal);

    public SignedTx this[string hash] => _byHash[hash];

    public SignedTx ByRaw(string raw) => _byRaw[raw];

    public bool TryGet(string hash, out SignedTx tx) => _byHash.TryGetValue(hash, out tx!);

    /// <summary>Signs what the pool asked for: a relay's call, a speed-up of it (re-signed from its raw bytes), or a 0-value self-send.</summary>
    public SignedTx Sign(SignRequest request) => request.Kind switch
    {
        AttemptKind.Original => Remember(request.Wallet, request.Nonce, request.MaxFeePerGas, request.PriorityFeePerGas, request.Kind,
            request.Relay!.QuoteId, request.Relay.GasLimit),
        AttemptKind.SpeedUp when ByRaw(request.BasedOnRawTx!) is var original => Remember(request.Wallet, request.Nonce, request.MaxFeePerGas,
            request.PriorityFeePerGas, request.Kind, original.QuoteId, original.GasLimit),
        _ => Remember(request.Wallet, request.Nonce, request.MaxFeePerGas, request.PriorityFeePerGas, request.Kind, request.QuoteId, SelfSendGas),
    };

    /// <summary>A transaction from a worker's address that the pool did not sign.</summary>
    public SignedTx SignOutsider(Address wallet, BigInteger nonce, BigInteger maxFee, BigInteger tip) =>
        Remember(wallet, nonce, maxFee, tip, null, null, SelfSendGas);

    private SignedTx Remember(Address wallet, BigInteger nonce, BigInteger maxFee, BigInteger tip, AttemptKind? kind, QuoteId? quoteId, BigInteger gasLimit)
    {
        var content = $"{wallet}|{nonce}|{maxFee}|{tip}|{kind?.ToString() ?? "outsider"}|{quoteId?.Value}|{gasLimit}";
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));
        var tx = new SignedTx("0x" + digest, "0x02" + digest, wallet, nonce, maxFee, tip, kind, quoteId, gasLimit);
        _byHash[tx.Hash] = tx;
        _byRaw[tx.Raw] = tx;
        return tx;
    }
}
