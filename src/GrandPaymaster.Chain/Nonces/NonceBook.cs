using System.Numerics;
using GrandPaymaster.Chain.Crypto;

namespace GrandPaymaster.Chain.Nonces;

/// <summary>
/// Hands out nonces per wallet without asking the chain for each one. Starts from the chain's
/// pending count; a nonce whose transaction the node refused is handed out again first, so no gap
/// is left behind it. Not thread-safe: one owner (the pool actor).
/// </summary>
public sealed class NonceBook
{
    private readonly Dictionary<EthAddress, BigInteger> _next = new();
    private readonly Dictionary<EthAddress, SortedSet<BigInteger>> _freed = new();

    public bool Knows(EthAddress wallet) => _next.ContainsKey(wallet);

    /// <summary>
    /// Sets the wallet's next nonce: the chain's pending count, but never below <paramref name="floor"/> (one past
    /// the highest nonce of our own transactions the chain may not have seen yet, e.g. journaled before a crash).
    /// Freed nonces are forgotten: after a reset nothing below the next one is handed out again.
    /// </summary>
    public void Reset(EthAddress wallet, BigInteger pendingCount, BigInteger floor)
    {
        _next[wallet] = BigInteger.Max(pendingCount, floor);
        _freed.Remove(wallet);
    }

    public BigInteger Take(EthAddress wallet)
    {
        if (_freed.TryGetValue(wallet, out var freed) && freed.Count > 0)
        {
            var reused = freed.Min;
            freed.Remove(reused);
            return reused;
        }

        var next = _next.TryGetValue(wallet, out var n) ? n : throw new InvalidOperationException($"No nonce known for {wallet}.");
        _next[wallet] = next + 1;
        return next;
    }

    /// <summary>The transaction with this nonce was refused: hand the nonce out again.</summary>
    public void Free(EthAddress wallet, BigInteger nonce)
    {
        if (!_next.TryGetValue(wallet, out var next) || nonce >= next) return;
        if (nonce == next - 1)
        {
            _next[wallet] = nonce;
            return;
        }

        if (!_freed.TryGetValue(wallet, out var freed)) _freed[wallet] = freed = [];
        freed.Add(nonce);
    }
}
