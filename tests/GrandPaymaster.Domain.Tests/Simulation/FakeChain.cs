using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Pools;

namespace GrandPaymaster.Domain.Tests.Simulation;

/// <summary>
/// How often a broadcast is answered with something other than the truth (each a probability, 0–1).
/// <see cref="AnsweredOnRetry"/>: the node read it but the answer was lost, and the client's retry a few steps later
/// is what the pool hears ("already known", or "nonce too low" once it is mined).
/// </summary>
public sealed record BroadcastFaults(double Refused, double UnknownNotDelivered, double UnknownDelivered, double ErrorAfterForwarding, double AnsweredOnRetry)
{
    public static readonly BroadcastFaults None = new(0, 0, 0, 0, 0);
}

/// <summary>What a broadcast was answered, and whether the transaction really is in the mempool now; a retried one is answered later.</summary>
public sealed record BroadcastResult(BroadcastVerdict Verdict, string Reason, bool Delivered, bool Retried = false);

/// <summary>A receipt on the canonical chain.</summary>
public sealed record ChainReceipt(string TxHash, BigInteger GasUsed, BigInteger EffectiveGasPrice, bool Succeeded, long BlockNumber, string BlockHash);

/// <summary>A mined block: its number, a hash unique to this version of it, the base fee it was priced at and its receipts.</summary>
public sealed record Block(long Number, string Hash, BigInteger BaseFee, IReadOnlyList<(SignedTx Tx, ChainReceipt Receipt)> Included);

/// <summary>
/// A small EIP-1559 chain: per-wallet nonces, one mempool slot per (wallet, nonce) that a transaction replaces only
/// with both fees ≥ 10 % higher, blocks that take the executable transactions priced at least the base fee (best tip
/// first), a base fee that moves ≤ 12.5 % a block toward a target that sometimes spikes, and short reorgs that put
/// the removed blocks' transactions back into the mempool. It answers broadcasts truthfully unless
/// <see cref="BroadcastFaults"/> say otherwise, and only a refusal it answers proves the transaction is in no mempool.
/// </summary>
public sealed class FakeChain(FakeSigner signer, Random random, int confirmationDepth, BigInteger baseFee)
{
    private static readonly BigInteger MinBaseFee = 1_000_000_000;
    private readonly List<Block> _blocks = [];
    private readonly SortedDictionary<(string Wallet, BigInteger Nonce), SignedTx> _mempool = new(Comparer<(string Wallet, BigInteger Nonce)>.Create((a, b) =>
        string.CompareOrdinal(a.Wallet, b.Wallet) is var byWallet and not 0 ? byWallet : a.Nonce.CompareTo(b.Nonce)));
    private readonly Dictionary<string, (long Block, ChainReceipt Receipt)> _mined = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<Address, BigInteger> _nonces = new();
    private BigInteger _target = baseFee;
    private BigInteger _normal = baseFee;
    private int _spikeBlocks;
    private int _blockSerial;
    private int _final;
    private bool _calm;

    /// <summary>What the next block will charge per gas.</summary>
    public BigInteger BaseFee { get; private set; } = baseFee;

    /// <summary>How deep a block must be before its receipts are final (0: at once, a devnet).</summary>
    public int ConfirmationDepth { get; } = confirmationDepth;

    public long Head => _blocks.Count;

    /// <summary>Blocks removed by reorgs so far; the invariants re-check what a reorg changed.</summary>
    public int Reorgs { get; private set; }

    public IEnumerable<SignedTx> Mempool => _mempool.Values;

    public IReadOnlyList<Block> Blocks => _blocks;

    public bool IsMined(string txHash) => _mined.ContainsKey(txHash);

    public bool InMempool(SignedTx tx) => _mempool.TryGetValue(Slot(tx), out var held) && held.Hash == tx.Hash;

    /// <summary>The receipt if the transaction is on the canonical chain at the confirmation depth.</summary>
    public ChainReceipt? FinalReceipt(string txHash) =>
        _mined.TryGetValue(txHash, out var mined) && Head - mined.Block >= ConfirmationDepth ? mined.Receipt : null;

    /// <summary>How many of the wallet's transactions are mined (its next nonce), on the canonical chain.</summary>
    public BigInteger MinedNonce(Address wallet) => _nonces.GetValueOrDefault(wallet);

    /// <summary>The wallet's next nonce counted only in blocks at the confirmation depth.</summary>
    public BigInteger NonceAtDepth(Address wallet)
    {
        for (var i = (int)(Head - ConfirmationDepth) - 1; i >= 0; i--)
            if (_blocks[i].Included.LastOrDefault(x => x.Tx.Wallet == wallet).Tx is { } last)
                return last.Nonce + 1;
        return 0;
    }

    /// <summary><c>eth_getTransactionCount(pending)</c>: the mined nonce plus the wallet's contiguous mempool transactions.</summary>
    public BigInteger PendingCount(Address wallet)
    {
        var next = MinedNonce(wallet);
        while (_mempool.ContainsKey((wallet.Value, next))) next++;
        return next;
    }

    /// <summary>
    /// Sends a raw transaction through a node that may fail in the ways <paramref name="faults"/> allow. A transaction
    /// the chain already holds is answered truthfully ("already known", "nonce too low").
    /// </summary>
    public BroadcastResult Broadcast(string rawTx, BroadcastFaults faults)
    {
        var tx = signer.ByRaw(rawTx);
        if (InMempool(tx) || IsMined(tx.Hash)) return Submit(tx);
        var roll = random.NextDouble();
        if ((roll -= faults.Refused) < 0) return new(BroadcastVerdict.Refused, "node refused it (insufficient funds for gas)", false);
        if ((roll -= faults.UnknownNotDelivered) < 0) return new(BroadcastVerdict.Unknown, "timeout before the node read it", false);
        var truth = Submit(tx);
        if ((roll -= faults.UnknownDelivered) < 0) return new(BroadcastVerdict.Unknown, "connection reset after the node read it", InMempool(tx));
        if ((roll -= faults.ErrorAfterForwarding) < 0) return new(BroadcastVerdict.Unknown, "-32603 after forwarding", InMempool(tx));
        if ((roll -= faults.AnsweredOnRetry) < 0) return new(BroadcastVerdict.Unknown, "retrying", InMempool(tx), Retried: true);
        return truth;
    }

    /// <summary>
    /// The client's retry of a broadcast the node already read: "nonce too low" once it is mined, "already known" while it
    /// waits, and "unknown" otherwise (a refusal after the first try was forwarded proves nothing).
    /// </summary>
    public BroadcastResult AnswerRetry(string txHash)
    {
        var tx = signer[txHash];
        if (IsMined(tx.Hash) || tx.Nonce < MinedNonce(tx.Wallet)) return new(BroadcastVerdict.NonceTooLow, "nonce too low (on retry)", false);
        return new(BroadcastVerdict.Unknown, InMempool(tx) ? "already known (on retry)" : "refused on retry after forwarding", InMempool(tx));
    }

    /// <summary>What an honest node does with a transaction.</summary>
    public BroadcastResult Submit(SignedTx tx)
    {
        if (IsMined(tx.Hash) || tx.Nonce < MinedNonce(tx.Wallet)) return new(BroadcastVerdict.NonceTooLow, "nonce too low", false);
        if (_mempool.TryGetValue(Slot(tx), out var held))
        {
            if (held.Hash == tx.Hash) return new(BroadcastVerdict.Unknown, "already known", true);
            if (tx.MaxFeePerGas * 10 < held.MaxFeePerGas * 11 || tx.PriorityFeePerGas * 10 < held.PriorityFeePerGas * 11)
                return new(BroadcastVerdict.Refused, "replacement transaction underpriced", false);
        }

        _mempool[Slot(tx)] = tx;
        return new(BroadcastVerdict.Accepted, "", true);
    }

    /// <summary>Mines one block of at most <paramref name="capacity"/> transactions, then moves the base fee.</summary>
    public Block Mine(int capacity)
    {
        var next = new Dictionary<Address, BigInteger>();
        var included = new List<(SignedTx, ChainReceipt)>();
        var hash = $"0xb{++_blockSerial:x}";
        while (included.Count < capacity)
        {
            // Each wallet's next nonce, if it is in the mempool and pays the base fee; the best tip goes first.
            var best = _mempool.Values
                .Where(t => t.Nonce == next.GetValueOrDefault(t.Wallet, MinedNonce(t.Wallet)) && t.MaxFeePerGas >= BaseFee)
                .OrderByDescending(t => BigInteger.Min(t.PriorityFeePerGas, t.MaxFeePerGas - BaseFee)).ThenBy(t => t.Hash, StringComparer.Ordinal)
                .FirstOrDefault();
            if (best is null) break;
            _mempool.Remove(Slot(best));
            next[best.Wallet] = best.Nonce + 1;
            var price = BigInteger.Min(best.MaxFeePerGas, BaseFee + best.PriorityFeePerGas);
            included.Add((best, new ChainReceipt(best.Hash, GasUsed(best), price, Succeeds(best), Head + 1, hash)));
        }

        var block = new Block(Head + 1, hash, BaseFee, included);
        _blocks.Add(block);
        foreach (var (tx, receipt) in included)
        {
            _mined[tx.Hash] = (block.Number, receipt);
            _nonces[tx.Wallet] = tx.Nonce + 1;
        }

        _final = Math.Max(_final, _blocks.Count - ConfirmationDepth);
        MoveBaseFee();
        return block;
    }

    /// <summary>
    /// Removes the top <paramref name="depth"/> blocks, but never one that was ever at the confirmation depth (what
    /// finality means); their transactions go back to the mempool.
    /// </summary>
    public void Reorg(int depth)
    {
        for (var i = 0; i < depth && _blocks.Count > _final; i++)
        {
            var top = _blocks[^1];
            _blocks.RemoveAt(_blocks.Count - 1);
            foreach (var (tx, _) in top.Included)
            {
                _mined.Remove(tx.Hash);
                _mempool[Slot(tx)] = tx;
                _nonces[tx.Wallet] = BigInteger.Min(_nonces[tx.Wallet], tx.Nonce);
            }

            Reorgs++;
        }
    }

    /// <summary>From now on the base fee heads for <paramref name="target"/> (the quiet end of a run heads for the floor).</summary>
    public void Calm(BigInteger target)
    {
        _normal = _target = BigInteger.Max(MinBaseFee, target);
        _spikeBlocks = 0;
        _calm = true;
    }

    /// <summary>Sometimes a spike (demand × 3–8 for a few blocks); the fee moves at most 12.5 % a block toward the target, with noise.</summary>
    private void MoveBaseFee()
    {
        if (_spikeBlocks > 0 && --_spikeBlocks == 0) _target = _normal;
        else if (_spikeBlocks == 0 && !_calm && random.NextDouble() < 0.03)
        {
            _spikeBlocks = random.Next(5, 25);
            _target = _normal * random.Next(3, 9);
        }

        var step = BaseFee / 8;
        var moved = _target > BaseFee ? BaseFee + BigInteger.Min(step, _target - BaseFee) : BaseFee - BigInteger.Min(step, BaseFee - _target);
        var noise = moved * random.Next(-3, 4) / 100;
        BaseFee = BigInteger.Max(MinBaseFee, moved + noise);
    }

    private static (string, BigInteger) Slot(SignedTx tx) => (tx.Wallet.Value, tx.Nonce);

    /// <summary>A call uses 50–100 % of its gas limit (a function of the transaction, so a replay gives the same receipt).</summary>
    private static BigInteger GasUsed(SignedTx tx) => tx.CarriesCall ? tx.GasLimit * (50 + Digit(tx, 2) % 51) / 100 : tx.GasLimit;

    /// <summary>One call in ten reverts: it is mined and paid for all the same.</summary>
    private static bool Succeeds(SignedTx tx) => !tx.CarriesCall || Digit(tx, 4) % 10 != 0;

    private static int Digit(SignedTx tx, int at) => Convert.ToInt32(tx.Hash.Substring(at, 2), 16);
}
