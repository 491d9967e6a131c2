using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Pools;

namespace GrandPaymaster.Domain.Tests.Simulation;

/// <summary>A broken invariant: which one, and what broke it.</summary>
public sealed class InvariantViolation(string invariant, string detail) : Exception($"{invariant}: {detail}")
{
    public string Invariant { get; } = invariant;

    public string Detail { get; } = detail;
}

/// <summary>
/// What must hold in a simulated run: after every step (money, the chain against the books), at a crash (the journals
/// rebuild the live states) and at the end of the quiet period (everything mined is settled once, nothing is open).
/// Each check throws an <see cref="InvariantViolation"/> naming the invariant.
/// </summary>
public sealed class Invariants(FakeChain chain, PoolHost pool, IReadOnlyDictionary<DappId, DappHost> dapps)
{
    public const string LedgerLaw = "the ledger law holds for every dApp and token";
    public const string MinedCallNotReleased = "a mined call belongs to one quote, which is not released";
    public const string OneMinedCallPerQuote = "a quote's call is mined at most once";
    public const string NoReleaseWhileMinable = "no hold is released while one of its attempts could still be mined";
    public const string NonceHandedOutOnce = "a nonce is held by one transaction in flight at most";
    public const string RecoveryRebuildsState = "folding the journal rebuilds the live state";
    public const string EveryMinedCallSettled = "every mined call is settled exactly once, against its receipt";
    public const string NothingOpenAtTheEnd = "nothing is left open after the quiet period";

    private readonly Dictionary<QuoteId, string> _minedCall = new();
    private long _checkedHead;
    private int _releases;
    private int _reorgs;

    /// <summary>Checked after every step; the chain's history is re-read only when a release or a reorg could change the answer.</summary>
    public void AfterStep()
    {
        foreach (var dapp in dapps.Values) CheckLedgers(dapp, withTotals: false);

        foreach (var tx in chain.Mempool.Where(t => t.Kind is not null && t.QuoteId is not null))
            if (IsReleased(tx.QuoteId!.Value, out var reason))
                throw new InvariantViolation(NoReleaseWhileMinable, $"quote {tx.QuoteId} was released ({reason}) while its {tx.Kind} {tx.Hash} is in the mempool");

        foreach (var tx in pool.Pending())
            if (IsReleased(tx.QuoteId, out var reason))
                throw new InvariantViolation(NoReleaseWhileMinable, $"quote {tx.QuoteId} was released ({reason}) while the pool still broadcasts {tx.Latest.TxHash}");

        var releases = dapps.Values.Sum(d => d.Releases);
        if (releases != _releases || chain.Reorgs != _reorgs) _checkedHead = 0;
        _releases = releases;
        _reorgs = chain.Reorgs;
        CheckMinedCalls();
        CheckNonces();
    }

    /// <summary>Before a crash: what the journals rebuild equals the live states (the pool's after both re-read the chain's nonces).</summary>
    public void AtCrash()
    {
        var live = pool.State;
        var folded = pool.Runner.Folded();
        foreach (var wallet in live.Workers)
        {
            // Nonces the chain is ahead by are not journaled (they are read again after a restart): compare after re-reading.
            var count = chain.PendingCount(wallet);
            live = live.SyncNonce(wallet, count, FakeClock.Epoch).State;
            folded = folded.SyncNonce(wallet, count, FakeClock.Epoch).State;
        }

        if (!live.Equals(folded))
            throw new InvariantViolation(RecoveryRebuildsState, $"the pool's journal of {pool.Runner.Journal.Count} events folds to another state");

        foreach (var dapp in dapps.Values)
            if (Describe(dapp.State) != Describe(dapp.Folded()))
                throw new InvariantViolation(RecoveryRebuildsState, $"dApp {dapp.Id}: the journal folds to another state");
    }

    /// <summary>After the quiet period: every mined call settled against its own receipt, no hold open, nothing in flight.</summary>
    public void AtEnd(string? stillOpen)
    {
        AfterStep();
        foreach (var dapp in dapps.Values) CheckLedgers(dapp, withTotals: true);
        if (stillOpen is not null) throw new InvariantViolation(NothingOpenAtTheEnd, stillOpen);

        var minedCalls = chain.Blocks.SelectMany(b => b.Included).Where(i => i.Tx.CarriesCall).ToDictionary(i => i.Tx.QuoteId!.Value, i => i.Tx.Hash);
        foreach (var (quoteId, hash) in minedCalls.OrderBy(m => m.Key.Value, StringComparer.Ordinal))
        {
            var execution = dapps[quoteId.Dapp].State.Executions.GetValueOrDefault(quoteId);
            if (execution?.Settlement?.TxHash != hash)
                throw new InvariantViolation(EveryMinedCallSettled,
                    $"{hash} of quote {quoteId} is mined but the quote is {execution?.Status.ToString() ?? "unknown"} (settled against {execution?.Settlement?.TxHash ?? "nothing"})");
        }

        foreach (var execution in dapps.Values.SelectMany(d => d.State.Executions.Values).Where(e => e.Settlement is not null))
            if (!minedCalls.TryGetValue(execution.Quote.Id, out var hash) || hash != execution.Settlement!.TxHash)
                throw new InvariantViolation(EveryMinedCallSettled, $"quote {execution.Quote.Id} is settled against {execution.Settlement!.TxHash}, which is not a mined call of it");
    }

    private void CheckLedgers(DappHost dapp, bool withTotals)
    {
        foreach (var token in FeeTokens.All)
        {
            var ledger = dapp.State.LedgerOf(token);
            if (!ledger.LawHolds) throw new InvariantViolation(LedgerLaw, $"dApp {dapp.Id} {token}: {ledger}");
            if (!withTotals) continue;
            var open = dapp.OpenHolds(token);
            var settled = dapp.State.Executions.Values.Where(e => e.Settlement is not null && e.Hold.Token == token)
                .Aggregate(BigInteger.Zero, (sum, e) => sum + e.Settlement!.Amounts.Fee.Units);
            if (ledger.Held != open || ledger.Settled != settled)
                throw new InvariantViolation(LedgerLaw, $"dApp {dapp.Id} {token}: held {ledger.Held} vs open holds {open}, settled {ledger.Settled} vs settlements {settled}");
        }
    }

    /// <summary>Blocks not yet checked (all of them after a release or a reorg): each mined call's quote is not released and has no other mined call.</summary>
    private void CheckMinedCalls()
    {
        if (_checkedHead == 0) _minedCall.Clear();
        foreach (var (tx, _) in chain.Blocks.Skip((int)_checkedHead).SelectMany(b => b.Included).Where(i => i.Tx.CarriesCall))
        {
            var quoteId = tx.QuoteId!.Value;
            if (_minedCall.TryGetValue(quoteId, out var other))
                throw new InvariantViolation(OneMinedCallPerQuote, $"quote {quoteId}: {other} and {tx.Hash} (nonce {tx.Nonce} of {tx.Wallet}) are both mined");
            _minedCall[quoteId] = tx.Hash;
            if (IsReleased(quoteId, out var reason))
                throw new InvariantViolation(MinedCallNotReleased, $"{tx.Hash} (nonce {tx.Nonce} of {tx.Wallet}) is mined but quote {quoteId} was released ({reason})");
        }

        _checkedHead = chain.Head;
    }

    private void CheckNonces()
    {
        var held = new HashSet<(Address, BigInteger)>();
        foreach (var (wallet, nonce) in pool.State.Pending.Select(t => (t.Wallet, t.Nonce)).Concat(pool.State.GapFills.Values.Select(g => (g.Wallet, g.Nonce))))
            if (!held.Add((wallet, nonce)))
                throw new InvariantViolation(NonceHandedOutOnce, $"nonce {nonce} of {wallet} is held twice");
    }

    private bool IsReleased(QuoteId quoteId, out string reason)
    {
        var execution = dapps.GetValueOrDefault(quoteId.Dapp)?.State.Executions.GetValueOrDefault(quoteId);
        reason = execution?.Release?.Reason ?? "";
        return execution?.Status == ExecutionStatus.Released;
    }

    /// <summary>A dApp's books in a comparable form (its collections compare by reference).</summary>
    private static string Describe(DappState state) =>
        string.Join(";", state.Ledgers.OrderBy(l => l.Key).Select(l => $"{l.Key}={l.Value}"))
        + "|" + string.Join(";", state.Executions.Values.OrderBy(e => e.Quote.Id.Value, StringComparer.Ordinal)
            .Select(e => $"{e.Quote.Id}:{e.Status}:{e.Hold}:{string.Join(",", e.TxHashes)}:{e.Settlement?.TxHash}"));
}
