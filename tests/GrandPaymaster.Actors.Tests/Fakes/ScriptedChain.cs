using System.Collections.Concurrent;
using System.Numerics;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Chain.Transactions;
using GrandPaymaster.Domain.Pools;
using Address = GrandPaymaster.Domain.Common.Address;

namespace GrandPaymaster.Actors.Tests.Fakes;

/// <summary>
/// A chain a test scripts: it records every broadcast, answers verdicts from a queue (accepted when empty), mines
/// what the test tells it to into numbered blocks, and can go dark (every call fails, <see cref="AnyAvailable"/> false).
/// </summary>
public sealed class ScriptedChain : IPoolChain
{
    private readonly ConcurrentQueue<(BroadcastVerdict, string)> _verdicts = new();
    private readonly ConcurrentDictionary<BigInteger, (string Hash, IReadOnlyList<FoundReceipt> Receipts)> _blocks = new();
    private readonly ConcurrentDictionary<string, FoundReceipt> _mined = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, BigInteger> _nonces = new();
    private long _head = 100;
    private int _epoch;
    private long _lookups;

    public ConcurrentQueue<DecodedTransaction> Broadcasts { get; } = new();

    public bool Dark { get; set; }

    public bool AnyAvailable => !Dark;

    public long ReceiptLookups => Interlocked.Read(ref _lookups);

    public BigInteger BaseFee { get; set; } = 1_000_000_000;

    /// <summary>Broadcasts fail with an exception that is not an RPC answer (a bug or a cancelled task in the client).</summary>
    public bool BroadcastThrows { get; set; }

    /// <summary>While set and not completed, broadcasts wait for it (a slow node).</summary>
    public TaskCompletionSource? Gate { get; set; }

    public void NextVerdict(BroadcastVerdict verdict, string reason = "scripted") => _verdicts.Enqueue((verdict, reason));

    /// <summary>Every forwarded relay the pool simulated before signing it.</summary>
    public ConcurrentQueue<PoolCommands.RelayTransaction> Preflights { get; } = new();

    private readonly ConcurrentQueue<PreflightVerdict> _preflightVerdicts = new();

    /// <summary>The next simulation's answer (it passes when none is scripted).</summary>
    public void NextPreflight(PreflightVerdict verdict) => _preflightVerdicts.Enqueue(verdict);

    public Task<PreflightVerdict> PreflightAsync(PoolCommands.RelayTransaction relay, CancellationToken ct = default)
    {
        Preflights.Enqueue(relay);
        return Task.FromResult(_preflightVerdicts.TryDequeue(out var verdict) ? verdict : PreflightVerdict.Passes);
    }

    /// <summary>Mines a block holding these transactions (by hash); each uses 21,000 gas at the given price.</summary>
    public void Mine(params string[] txHashes) => Mine(null, txHashes);

    /// <summary>Mines a block whose receipts carry these forwarder events (the same for each transaction).</summary>
    public void Mine(IReadOnlyList<ForwardExecution>? forwarded, params string[] txHashes)
    {
        // The block exists before the head moves to it, as on a node: a scan never sees a head without its receipts.
        var number = Interlocked.Read(ref _head) + 1;
        var hash = $"0xblock{number}-{_epoch}";
        var receipts = txHashes.Select(h => new FoundReceipt(h, number, hash, 21_000, BaseFee, true, forwarded)).ToArray();
        foreach (var r in receipts) _mined[r.TxHash] = r;
        _blocks[number] = (hash, receipts);
        Interlocked.Exchange(ref _head, number);
    }

    /// <summary>The head moves on by <paramref name="blocks"/> empty blocks (a burst the receipt scan must catch up on).</summary>
    public void AdvanceEmpty(long blocks) => Interlocked.Add(ref _head, blocks);

    /// <summary>The blocks above <paramref name="height"/> leave the chain; the next ones mined get other hashes.</summary>
    public void Reorg(long height)
    {
        _epoch++;
        foreach (var number in _blocks.Keys.Where(n => n > height).ToArray())
            if (_blocks.TryRemove(number, out var gone))
                foreach (var r in gone.Receipts) _mined.TryRemove(r.TxHash, out _);
        Interlocked.Exchange(ref _head, height);
    }

    public void SetNonce(Address wallet, BigInteger next) => _nonces[wallet.Value] = next;

    public Task<ChainHead> HeadAsync(CancellationToken ct = default) =>
        Dark ? Task.FromException<ChainHead>(new InvalidOperationException("dark")) : Task.FromResult(new ChainHead(Interlocked.Read(ref _head), $"0xhead-{_epoch}", BaseFee));

    public Task<IReadOnlyList<FoundReceipt>?> BlockReceiptsAsync(BigInteger block, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _lookups);
        return Task.FromResult(_blocks.TryGetValue(block, out var b) ? b.Receipts : block <= Interlocked.Read(ref _head) ? [] : null);
    }

    public Task<string?> BlockHashAsync(BigInteger block, CancellationToken ct = default) =>
        Task.FromResult(_blocks.TryGetValue(block, out var b) ? b.Hash : block <= Interlocked.Read(ref _head) ? $"0xblock{block}-empty" : null);

    public Task<FoundReceipt?> ReceiptAsync(string txHash, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _lookups);
        return Task.FromResult(_mined.GetValueOrDefault(txHash));
    }

    public Task<bool> IsMinedAsync(string txHash, CancellationToken ct = default) => Task.FromResult(_mined.ContainsKey(txHash));

    /// <summary>Known once broadcast (the scripted node keeps every transaction it was sent), or mined.</summary>
    public Task<bool> IsKnownAsync(string txHash, CancellationToken ct = default) =>
        Dark ? Task.FromException<bool>(new InvalidOperationException("dark"))
            : Task.FromResult(_mined.ContainsKey(txHash) || _received.ContainsKey(txHash));

    private readonly ConcurrentDictionary<string, bool> _received = new(StringComparer.OrdinalIgnoreCase);

    public Task<BigInteger> NonceAsync(Address wallet, BigInteger? block, CancellationToken ct = default) =>
        Dark ? Task.FromException<BigInteger>(new InvalidOperationException("dark")) : Task.FromResult(_nonces.GetValueOrDefault(wallet.Value));

    public async Task<(BroadcastVerdict Verdict, string Reason)> BroadcastAsync(string rawTx, CancellationToken ct = default)
    {
        Broadcasts.Enqueue(TransactionDecoder.Decode(Hex.Decode(rawTx)));
        if (!Dark && !BroadcastThrows) _received[Hex.Encode(GrandPaymaster.Chain.Crypto.Keccak256.Hash(Hex.Decode(rawTx)))] = true;
        if (Gate is { } gate) await gate.Task;
        if (BroadcastThrows) throw new TaskCanceledException("the client gave up");
        if (Dark) return (BroadcastVerdict.Unknown, "unknown: no endpoint available");
        return _verdicts.TryDequeue(out var v) ? v : (BroadcastVerdict.Accepted, "accepted");
    }
}
