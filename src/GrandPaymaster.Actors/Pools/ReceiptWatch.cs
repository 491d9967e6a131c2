using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Pools;

namespace GrandPaymaster.Actors.Pools;

/// <summary>
/// Finds the receipts of a pool's transactions per block, not per transaction: each new block's receipts are read
/// once (<c>eth_getBlockReceipts</c>) and matched against every hash we signed, so the cost grows with blocks, not
/// with transactions in flight. A receipt is final once its block is <see cref="PoolSettings.ConfirmationDepth"/> deep
/// and still canonical; one whose block left the chain is watched again. Transactions the scan has not found for a
/// while although it read past the head of the time they were first watched, or while the scan is stuck (a lagging
/// node), are looked up on their own, and the chain is asked whether their nonce went to another transaction. A scan
/// that is merely behind (a burst of blocks) is left to catch up: looking each transaction up then would only add load. Not thread-safe: owned by the pool actor, whose messages carry the results back.
/// </summary>
internal sealed class ReceiptWatch(IPoolChain chain, PoolSettings settings)
{
    private readonly Dictionary<string, FoundReceipt> _seen = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<BigInteger> _verifying = new();
    private readonly Dictionary<string, LookupDueAt> _lookupDue = new(StringComparer.Ordinal);
    private readonly HashSet<string> _lookingUp = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _nonceTaken = new(StringComparer.Ordinal);
    private BigInteger? _cursor;
    private DateTimeOffset _cursorMovedAt;
    private bool _scanning;
    private int _rewinds;

    public ChainHead? Head { get; private set; }

    public bool PollingHead { get; set; }

    /// <summary>Blocks up to the head not read yet (0 when caught up).</summary>
    public BigInteger BlocksBehind => Head is { } head && _cursor is { } cursor && cursor <= head.Number ? head.Number - cursor + 1 : BigInteger.Zero;

    public void HeadSeen(ChainHead head, DateTimeOffset now)
    {
        Head = head;
        if (_cursor is null) _cursorMovedAt = now;
        _cursor ??= head.Number;
    }

    /// <summary>Scans the next blocks up to the head when something of ours is in flight; with nothing to find, skips them unread.</summary>
    public Task<ScanResult>? NextScan(IReadOnlySet<string> watched, DateTimeOffset now)
    {
        if (Head is not { } head || _cursor is not { } from || _scanning || from > head.Number) return null;
        if (watched.Count == 0)
        {
            _cursor = head.Number + 1;
            _cursorMovedAt = now;
            return null;
        }

        _scanning = true;
        var to = BigInteger.Min(head.Number, from + settings.MaxBlocksPerScan - 1);
        var blocks = new List<BigInteger>();
        for (var b = from; b <= to; b++) blocks.Add(b);
        return ScanAsync(blocks, watched, _rewinds);
    }

    private async Task<ScanResult> ScanAsync(IReadOnlyList<BigInteger> blocks, IReadOnlySet<string> watched, int rewinds)
    {
        var read = await Task.WhenAll(blocks.Select(async b =>
        {
            try
            {
                return (Block: b, Receipts: await chain.BlockReceiptsAsync(b));
            }
            catch (Exception)
            {
                return (Block: b, Receipts: (IReadOnlyList<FoundReceipt>?)null);
            }
        }));
        return new ScanResult(read.Select(r => (r.Block, Ours: (IReadOnlyList<FoundReceipt>?)r.Receipts?.Where(x => watched.Contains(x.TxHash)).ToArray()))
            .ToArray(), rewinds);
    }

    /// <summary>Takes a scan's receipts; the cursor stops at the first block the node did not have, to read it again.</summary>
    public void Scanned(ScanResult result, DateTimeOffset now)
    {
        _scanning = false;
        if (result.Rewinds != _rewinds) return; // a reorg rewound the cursor while it ran: its blocks may be gone
        foreach (var (block, ours) in result.Blocks)
        {
            if (ours is null) break;
            foreach (var receipt in ours) _seen[receipt.TxHash] = receipt;
            _cursor = block + 1;
            _cursorMovedAt = now;
        }
    }

    /// <summary>A receipt found by a lookup outside the scan (fallback, restart).</summary>
    public void Seen(FoundReceipt receipt) => _seen[receipt.TxHash] = receipt;

    /// <summary>Receipts deep enough: final at once on a devnet (depth 0); deeper ones after their block's hash is checked.</summary>
    public (IReadOnlyList<FoundReceipt> Final, IReadOnlyList<Task<CanonicalChecked>> Checks) Deep()
    {
        if (Head is not { } head) return ([], []);
        var deep = _seen.Values.Where(r => head.Number >= r.BlockNumber + settings.ConfirmationDepth).ToArray();
        if (settings.ConfirmationDepth == 0)
        {
            foreach (var r in deep) _seen.Remove(r.TxHash);
            return (deep, []);
        }

        var checks = deep.Select(r => r.BlockNumber).Distinct().Where(_verifying.Add)
            .Select(async block =>
            {
                try
                {
                    return new CanonicalChecked(block, await chain.BlockHashAsync(block));
                }
                catch (Exception)
                {
                    return new CanonicalChecked(block, null);
                }
            }).ToArray();
        return ([], checks);
    }

    /// <summary>Receipts of a block whose hash is still canonical are final; a block that left the chain is scanned again.</summary>
    public IReadOnlyList<FoundReceipt> Verified(CanonicalChecked check)
    {
        _verifying.Remove(check.Block);
        var inBlock = _seen.Values.Where(r => r.BlockNumber == check.Block).ToArray();
        if (check.Hash is null) return [];
        foreach (var r in inBlock) _seen.Remove(r.TxHash);
        if (inBlock.All(r => string.Equals(r.BlockHash, check.Hash, StringComparison.OrdinalIgnoreCase))) return inBlock;
        _cursor = _cursor is { } c ? BigInteger.Min(c, check.Block) : check.Block;
        _rewinds++;
        return inBlock.Where(r => string.Equals(r.BlockHash, check.Hash, StringComparison.OrdinalIgnoreCase)).ToArray();
    }

    /// <summary>Forgets what was seen of a transaction that is final or released.</summary>
    public void Forget(IEnumerable<string> txHashes, string lookupKey)
    {
        foreach (var hash in txHashes) _seen.Remove(hash);
        _lookupDue.Remove(lookupKey);
        _nonceTaken.Remove(lookupKey);
    }

    /// <summary>
    /// Whether the transaction (by key) is due for its own lookup; schedules it on first sight, with the head of then.
    /// Due once its time came and the scan has read past that head (it should have been found) or is stuck.
    /// </summary>
    public bool LookupDue(string key, DateTimeOffset now)
    {
        if (_lookingUp.Contains(key)) return false;
        if (!_lookupDue.TryGetValue(key, out var due))
        {
            _lookupDue[key] = new LookupDueAt(now + settings.RebroadcastAfter, Head?.Number);
            return false;
        }

        if (due.At > now || !(ScannedPast(due.Head) || ScanStuck(now))) return false;
        _lookupDue[key] = new LookupDueAt(now + settings.RebroadcastAfter, Head?.Number);
        _lookingUp.Add(key);
        return true;
    }

    private bool ScannedPast(BigInteger? head) => head is not { } h || _cursor > h;

    /// <summary>Blocks wait to be read but the cursor has not moved for a while: the node does not serve them.</summary>
    private bool ScanStuck(DateTimeOffset now) => BlocksBehind > 0 && now - _cursorMovedAt >= settings.RebroadcastAfter;

    /// <summary>Brings a transaction's own lookup forward (a rebroadcast answered "nonce too low", say).</summary>
    public void LookupSoon(string key, DateTimeOffset now) => _lookupDue[key] = new LookupDueAt(now, null);

    /// <summary>
    /// One transaction's own lookup: the receipt of any attempt; failing that, whether its nonce is consumed at the
    /// confirmation depth while none of its hashes is in a block, which proves it can never be mined.
    /// </summary>
    public async Task<LookedUp> LookUpAsync(string key, Address wallet, BigInteger nonce, IReadOnlyList<string> hashes)
    {
        try
        {
            foreach (var hash in hashes)
                if (await chain.ReceiptAsync(hash) is { } receipt)
                    return new LookedUp(key, receipt, NonceTaken: false, hashes);

            if (Head is not { } head) return new LookedUp(key, null, false, hashes);
            var atDepth = BigInteger.Max(BigInteger.Zero, head.Number - settings.ConfirmationDepth);
            if (await chain.NonceAsync(wallet, atDepth) <= nonce) return new LookedUp(key, null, false, hashes);
            foreach (var hash in hashes)
                if (await chain.IsMinedAsync(hash))
                    return new LookedUp(key, null, false, hashes); // mined, receipt not served yet: keep looking
            return new LookedUp(key, null, NonceTaken: true, hashes);
        }
        catch (Exception)
        {
            return new LookedUp(key, null, false, hashes);
        }
    }

    public void LookupDone(string key) => _lookingUp.Remove(key);

    /// <summary>
    /// Whether a lookup's "nonce taken by another transaction" stands: it must have checked every attempt now open for the
    /// key, and the previous lookup of the key must have said the same. The first sighting brings the next lookup forward.
    /// </summary>
    public bool ConfirmNonceTaken(LookedUp found, IReadOnlyCollection<string> openHashes, DateTimeOffset now)
    {
        var covered = openHashes.Count > 0 && openHashes.All(h => found.Checked.Contains(h, StringComparer.OrdinalIgnoreCase));
        if (!found.NonceTaken || !covered)
        {
            _nonceTaken.Remove(found.Key);
            return false;
        }

        var seen = _nonceTaken[found.Key] = _nonceTaken.GetValueOrDefault(found.Key) + 1;
        if (seen >= 2) return true;
        _lookupDue[found.Key] = new LookupDueAt(now + TimeSpan.FromSeconds(1), null);
        return false;
    }

    private readonly record struct LookupDueAt(DateTimeOffset At, BigInteger? Head);

    public sealed record ScanResult(IReadOnlyList<(BigInteger Block, IReadOnlyList<FoundReceipt>? Ours)> Blocks, int Rewinds);

    public sealed record CanonicalChecked(BigInteger Block, string? Hash);

    /// <summary>A lookup's answer; <see cref="Checked"/> are the hashes it looked at (a later attempt may not be among them).</summary>
    public sealed record LookedUp(string Key, FoundReceipt? Receipt, bool NonceTaken, IReadOnlyList<string> Checked);
}
