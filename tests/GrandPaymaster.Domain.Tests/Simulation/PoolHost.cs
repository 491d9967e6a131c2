using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Pools;
using static GrandPaymaster.Domain.Pools.PoolCommands;

namespace GrandPaymaster.Domain.Tests.Simulation;

/// <summary>
/// Plays the pool actor's I/O around a <see cref="PoolRunner"/>: broadcasts to the fake chain and hands the verdicts
/// back a step or two later, tells dApps through the network, re-delivers settlements until acknowledged and journals
/// acknowledgements once per tick, polls the head (endpoint health, base fee), finds final receipts (a node lags a
/// random number of steps), and every <see cref="RebroadcastAfter"/> rebroadcasts each pending transaction and checks
/// whether its nonce went to another transaction at the confirmation depth.
/// </summary>
public sealed class PoolHost
{
    public static readonly ChainId Chain = new(31337);
    public static readonly TimeSpan RebroadcastAfter = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan SettleRedeliveryAfter = TimeSpan.FromSeconds(5);

    private readonly PoolRunner _runner;
    private readonly FakeChain _chain;
    private readonly FakeClock _clock;
    private readonly Network _network;
    private readonly Random _random;
    private readonly Func<long> _step;
    private readonly List<(long Due, Address Wallet, string TxHash, BroadcastResult Result)> _verdicts = [];
    private readonly Dictionary<QuoteId, DateTimeOffset> _settleDue = new();
    private readonly SortedSet<string> _acknowledged = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _lookupDue = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _toSync = new(StringComparer.Ordinal);
    private BigInteger? _baseFee;

    public PoolHost(IReadOnlyList<Address> workers, FakeChain chain, FakeSigner signer, FakeClock clock, Network network, Random random, Func<long> step)
    {
        _chain = chain;
        _clock = clock;
        _network = network;
        _random = random;
        _step = step;
        _runner = new PoolRunner(PoolState.Empty(Chain), signer, clock, Dispatch);
        foreach (var wallet in workers)
        {
            var (_, events) = State.Handle(new RegisterWorkerWallet(Chain, wallet, new Meta(clock.Now, "operator:sim", "add a worker", "c-0")));
            _runner.Run(new PoolStep(events.Aggregate(State, (s, e) => s.Apply(e)), events, []));
            _toSync.Add(wallet.Value);
        }
    }

    public PoolPolicy Policy { get; } = new();

    public PoolState State => _runner.State;

    public PoolRunner Runner => _runner;

    /// <summary>The mode the edges see (the last one published).</summary>
    public PoolModeView PublishedMode { get; private set; } = PoolModeView.Initial(Chain);

    /// <summary>Whether any RPC endpoint answers; when none does, broadcasts are lost and nothing is read from the chain.</summary>
    public bool EndpointsUp { get; set; } = true;

    public BroadcastFaults Faults { get; set; } = BroadcastFaults.None;

    /// <summary>The deliberately broken host of the self-test: a first broadcast answered "unknown" is taken as refused.</summary>
    public bool ReleaseOnUnknownVerdict { get; init; }

    /// <summary>Whether a broadcast's verdict is still on its way back.</summary>
    public bool AwaitingVerdicts => _verdicts.Count > 0;

    public void Receive(object message)
    {
        switch (message)
        {
            case RelayTransaction relay:
                _runner.Run(s => s.Relay(relay, _clock.Now, Policy));
                break;
            case DappReplies.SettleAck ack:
                _settleDue.Remove(ack.QuoteId);
                _acknowledged.Add(ack.QuoteId.Value);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(message), message.GetType().Name, "Not a pool message.");
        }
    }

    public void SetMode(PoolMode mode) =>
        _runner.Run(s => s.SetMode(new SetPoolMode(Chain, mode, new Meta(_clock.Now, "operator:sim", $"operator sets {mode}", $"mode-{_step()}")), _clock.Now));

    /// <summary>One tick of the actor's loop.</summary>
    public void Tick()
    {
        var now = _clock.Now;
        foreach (var verdict in _verdicts.Where(v => v.Due <= _step()).ToArray())
        {
            _verdicts.Remove(verdict);
            OnVerdict(verdict.Wallet, verdict.TxHash, verdict.Result);
        }

        if (EndpointsUp) SyncNonces();
        _runner.Run(s => s.Acknowledge(_acknowledged.Select(QuoteId.Parse).ToArray(), now));
        _acknowledged.Clear();
        RedeliverSettlements();

        if (EndpointsUp) _baseFee = _chain.BaseFee;
        _runner.Run(s => s.ObserveEndpoints(EndpointsUp, now, Policy));
        _runner.Run(s => s.Tick(now, _baseFee, Policy));
        if (!EndpointsUp) return;
        FindFinalReceipts();
        LookUpStragglers();
    }

    /// <summary>
    /// After a crash: the state is rebuilt from the journal, every transient fact is gone (verdicts on their way,
    /// acknowledgements not yet journaled, the head); every pending transaction is broadcast again and looked up soon,
    /// nonces are read again before any relay, and unacknowledged settlements go out again on the next tick.
    /// </summary>
    public void Restart()
    {
        _runner.Restart();
        _verdicts.Clear();
        _settleDue.Clear();
        _acknowledged.Clear();
        _lookupDue.Clear();
        _baseFee = null;
        foreach (var wallet in State.Workers) _toSync.Add(wallet.Value);
        foreach (var tx in Pending())
        {
            Broadcast(tx.Wallet, tx.Latest.TxHash, tx.Latest.RawTx);
            _lookupDue[tx.QuoteId.Value] = _clock.Now;
        }
    }

    /// <summary>Pending transactions in quote order (the state's order follows string hashes, which differ per process).</summary>
    public IReadOnlyList<PoolTx> Pending() => State.Pending.OrderBy(t => t.QuoteId.Value, StringComparer.Ordinal).ToArray();

    private void Dispatch(PoolEffect effect)
    {
        switch (effect)
        {
            case PoolEffect.Broadcast b:
                Broadcast(b.Wallet, b.TxHash, b.RawTx);
                break;
            case PoolEffect.ToDapp { Message: var message }:
                if (message is DappCommands.SettleFee settle) _settleDue[settle.QuoteId] = _clock.Now + SettleRedeliveryAfter;
                _network.Send(_step(), new Envelope(message.DappId.Value, message));
                break;
            case PoolEffect.PublishMode publish:
                PublishedMode = publish.View;
                break;
        }
    }

    private void Broadcast(Address wallet, string txHash, string rawTx)
    {
        var result = EndpointsUp ? _chain.Broadcast(rawTx, Faults) : new BroadcastResult(BroadcastVerdict.Unknown, "no endpoint answers", false);
        _verdicts.Add((_step() + (result.Retried ? _random.Next(3, 10) : 1 + _random.Next(3)), wallet, txHash, result));
    }

    private void OnVerdict(Address wallet, string txHash, BroadcastResult result)
    {
        if (result.Retried) result = _chain.AnswerRetry(txHash);
        var verdict = ReleaseOnUnknownVerdict && result.Verdict == BroadcastVerdict.Unknown ? BroadcastVerdict.Refused : result.Verdict;
        _runner.Run(s => s.OnBroadcast(txHash, verdict, result.Reason, _clock.Now, Policy));
        if (verdict != BroadcastVerdict.NonceTooLow) return;
        // Our book and the chain disagree about this wallet: read its nonce again and look the transaction up now.
        _toSync.Add(wallet.Value);
        if (State.Pending.FirstOrDefault(t => t.Owns(txHash)) is { } tx) _lookupDue[tx.QuoteId.Value] = _clock.Now;
    }

    private void SyncNonces()
    {
        foreach (var wallet in _toSync.Select(Address.Parse).ToArray())
            _runner.Run(s => s.SyncNonce(wallet, _chain.PendingCount(wallet), _clock.Now));
        _toSync.Clear();
    }

    private void RedeliverSettlements()
    {
        foreach (var confirmed in State.AwaitingAck.OrderBy(c => c.QuoteId.Value, StringComparer.Ordinal).ToArray())
            if (!_settleDue.TryGetValue(confirmed.QuoteId, out var due) || due <= _clock.Now)
                Dispatch(PoolState.SettleEffect(confirmed));
    }

    /// <summary>Receipts at the confirmation depth of any hash we watch; a lagging node serves each one a step or more late.</summary>
    private void FindFinalReceipts()
    {
        var watched = Pending().SelectMany(t => t.Attempts.Select(a => a.TxHash))
            .Concat(State.GapFills.Values.Select(g => g.Attempt.TxHash).Order(StringComparer.Ordinal)).ToArray();
        foreach (var hash in watched)
            if (_chain.FinalReceipt(hash) is { } r && _random.NextDouble() < 0.6)
                _runner.Run(s => s.OnFinalReceipt(r.TxHash, r.GasUsed, r.EffectiveGasPrice, r.Succeeded, r.BlockNumber, r.BlockHash, _clock.Now, Policy));
    }

    /// <summary>
    /// Every <see cref="RebroadcastAfter"/>, each pending transaction and gap fill is broadcast again (a node may have
    /// dropped it) and looked up: its nonce is proven taken when the wallet's nonce at the confirmation depth is past it
    /// and none of its hashes is mined.
    /// </summary>
    private void LookUpStragglers()
    {
        foreach (var tx in Pending())
        {
            if (State.AwaitingVerdict.Contains(tx.Original.TxHash) || !LookupDue(tx.QuoteId.Value)) continue;
            Broadcast(tx.Wallet, tx.Latest.TxHash, tx.Latest.RawTx);
            if (NonceTaken(tx.Wallet, tx.Nonce, tx.Attempts.Select(a => a.TxHash))) _runner.Run(s => s.OnNonceTakenByOther(tx.QuoteId, _clock.Now, Policy));
        }

        foreach (var (key, gap) in State.GapFills.OrderBy(g => g.Key, StringComparer.Ordinal).ToArray())
        {
            if (!LookupDue(key)) continue;
            Broadcast(gap.Wallet, gap.Attempt.TxHash, gap.Attempt.RawTx);
            if (NonceTaken(gap.Wallet, gap.Nonce, [gap.Attempt.TxHash])) _runner.Run(s => s.OnGapNonceConsumed(gap.Wallet, gap.Nonce, _clock.Now));
        }
    }

    private bool NonceTaken(Address wallet, BigInteger nonce, IEnumerable<string> hashes) =>
        _chain.NonceAtDepth(wallet) > nonce && !hashes.Any(_chain.IsMined);

    private bool LookupDue(string key)
    {
        if (!_lookupDue.TryGetValue(key, out var due))
        {
            _lookupDue[key] = _clock.Now + RebroadcastAfter;
            return false;
        }

        if (due > _clock.Now) return false;
        _lookupDue[key] = _clock.Now + RebroadcastAfter;
        return true;
    }
}
