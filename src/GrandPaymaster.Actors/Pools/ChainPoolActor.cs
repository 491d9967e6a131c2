using System.Numerics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Chain.Nonces;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Transactions;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Pools;
using static GrandPaymaster.Domain.Pools.PoolCommands;
using static GrandPaymaster.Domain.Pools.PoolEvents;
using Address = GrandPaymaster.Domain.Common.Address;

namespace GrandPaymaster.Actors.Pools;

/// <summary>
/// The sharded, persistent gas pool of one chain (<c>pool-{chainId}</c>): relays held transactions from
/// its worker wallets, watches their receipts and delivers each settlement to the dApp until it is
/// acknowledged. <see cref="TxSubmitted"/> is journaled before the broadcast, so a crash cannot lose a
/// sent transaction; RPC calls are piped back, never awaited.
/// </summary>
public sealed class ChainPoolActor : ReceivePersistentActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ChainId _chainId;
    private readonly PoolDependencies _deps;
    private readonly IActorRef _dapps;
    private readonly IReadOnlyList<EthKey> _keys;
    private readonly Dictionary<Address, EthKey> _keyByWallet;
    private readonly NonceBook _nonces = new();
    private readonly Dictionary<QuoteId, ReceiptWatch> _watches = new();
    private readonly Dictionary<QuoteId, (DateTimeOffset Due, TimeSpan Backoff)> _deliveries = new();
    private readonly HashSet<QuoteId> _acknowledged = new();
    private readonly Dictionary<QuoteId, TxSubmitted> _relaying = new();
    private readonly EthRpcClient? _rpc;
    private PoolState _state;

    public ChainPoolActor(ChainId chainId, PoolDependencies deps, IActorRef dapps)
    {
        _chainId = chainId;
        _deps = deps;
        _dapps = dapps;
        _rpc = deps.Rpc(chainId);
        _keys = deps.WorkerKeys(chainId);
        _keyByWallet = _keys.ToDictionary(k => Address.Parse(k.Address.ToChecksumString()));
        PersistenceId = PersistenceIdFor(chainId);
        _state = PoolState.Empty(chainId);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is PoolState snapshot) _state = snapshot;
        });
        Recover<IPoolEvent>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ => LoadNonces());

        Initializing();
    }

    public override string PersistenceId { get; }
    public ITimerScheduler Timers { get; set; } = null!;

    public static string PersistenceIdFor(ChainId chainId) => $"pool-{chainId}";

    public static Props PropsFor(ChainId chainId, PoolDependencies deps, IActorRef dapps) =>
        Props.Create(() => new ChainPoolActor(chainId, deps, dapps));

    private DateTimeOffset Now => _deps.Clock.GetUtcNow();

    /// <summary>Until every worker's nonce is known, relays wait; everything else is served.</summary>
    private void Initializing()
    {
        Command<NoncesLoaded>(loaded =>
        {
            ResetNonces(loaded);
            _log.Info("Pool {0}: {1} worker(s) ready, {2} transaction(s) in flight, {3} settlement(s) undelivered",
                _chainId, _keys.Count, _state.InFlight.Count, _state.AwaitingAck.Count);
            ResumeAfterRecovery();
            Become(Ready);
            Stash.UnstashAll();
        });
        Command<NoncesFailed>(failed =>
        {
            _log.Warning(failed.Cause, "Pool {0}: cannot read worker nonces yet; retrying", _chainId);
            Timers.StartSingleTimer("load-nonces", RetryLoadNonces.Instance, TimeSpan.FromSeconds(1));
        });
        Command<RetryLoadNonces>(_ => LoadNonces());
        Command<RelayTransaction>(_ => Stash.Stash());
        CommonCommands();
    }

    private void Ready()
    {
        Command<RelayTransaction>(Relay);
        Command<Broadcasted>(OnBroadcasted);
        Command<BroadcastRefused>(OnBroadcastRefused);
        Command<Tick>(_ => OnTick());
        Command<ReceiptChecked>(OnReceipt);
        Command<NoncesLoaded>(ResetNonces);
        Command<RebroadcastRefused>(OnRebroadcastRefused);
        Command<NoncesFailed>(failed => _log.Warning(failed.Cause, "Pool {0}: nonce resync failed", _chainId));
        CommonCommands();
    }

    private void CommonCommands()
    {
        Command<RegisterWorkerWallet>(Register);
        Command<DappReplies.SettleAck>(OnSettleAck);
        Command<GetPoolState>(_ => Sender.Tell(_state));
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Snapshot of {0} failed; recovery replays more events", PersistenceId));
        Command<ReceiptChecked>(_ => { }); // a late answer from before a restart of this incarnation's loop
    }

    /// <summary>
    /// The chain's pending count, but never below our own journaled transactions: one written just before a
    /// crash may never have reached the node, and its nonce must not be handed to another quote.
    /// </summary>
    private void ResetNonces(NoncesLoaded loaded)
    {
        foreach (var (wallet, pending) in loaded.Nonces)
        {
            var address = Address.Parse(wallet.ToChecksumString());
            var ours = _state.InFlight.Values.Concat(_relaying.Values).Where(t => t.Wallet == address).Select(t => t.Nonce + 1);
            _nonces.Reset(wallet, pending, ours.DefaultIfEmpty(BigInteger.Zero).Max());
        }
    }

    private void LoadNonces()
    {
        if (_rpc is null)
        {
            _log.Error("Pool {0}: no RPC endpoint is configured; relays wait", _chainId);
            return;
        }

        var rpc = _rpc;
        Task.WhenAll(_keys.Select(async k => (k.Address, await rpc.GetTransactionCountAsync(k.Address.ToChecksumString(), BlockTag.Pending))))
            .PipeTo(Self, success: all => new NoncesLoaded(all.ToDictionary(x => x.Address, x => x.Item2)), failure: e => new NoncesFailed(e));
    }

    /// <summary>After a restart: watch every journaled transaction again (broadcasting it once more) and re-deliver undelivered settlements.</summary>
    private void ResumeAfterRecovery()
    {
        foreach (var tx in _state.InFlight.Values.OrderBy(t => t.Nonce))
        {
            _watches[tx.QuoteId] = new ReceiptWatch(tx.TxHash, Now, _deps.Settings.FirstReceiptCheck, Now + _deps.Settings.RebroadcastAfter, checking: false);
            Rebroadcast(tx);
        }

        foreach (var quoteId in _state.AwaitingAck.Keys) _deliveries[quoteId] = (Now, _deps.Settings.FirstSettleRedelivery);
        Timers.StartPeriodicTimer("tick", Tick.Instance, _deps.Settings.Tick);
    }

    private void Relay(RelayTransaction relay)
    {
        if (_relaying.ContainsKey(relay.QuoteId)) return; // the first request's answer is on its way
        if (_state.Relayed.TryGetValue(relay.QuoteId, out var sent))
        {
            _dapps.Tell(new DappCommands.RelaySucceeded(sent.DappId, sent.QuoteId, sent.TxHash, sent.Wallet, sent.Nonce));
            return;
        }

        if (_keys.Count == 0 || _rpc is null)
        {
            _dapps.Tell(new DappCommands.RelayFailed(relay.DappId, relay.QuoteId, $"pool {_chainId} has no worker wallet or RPC endpoint"));
            return;
        }

        var key = PickWorker();
        var nonce = _nonces.Take(key.Address);
        var priority = BigInteger.Min(_deps.Settings.PriorityFeePerGas, relay.MaxFeePerGas.Value);
        var tx = new Eip1559Transaction(_chainId.Value, nonce, priority, relay.MaxFeePerGas.Value, relay.GasLimit,
            EthAddress.Parse(relay.To.Value), BigInteger.Zero, Hex.Decode(relay.DataHex));
        var signed = tx.Sign(key);
        var submitted = new TxSubmitted(_chainId, relay.QuoteId, relay.DappId, Address.Parse(key.Address.ToChecksumString()), nonce, signed.TxHashHex,
            signed.RawHex, Meta.System($"pool-{_chainId}", "relay held transaction", Now, relay.QuoteId.Value));
        var rpc = _rpc;

        // Group commit: relays of other quotes are signed while this one is written; the broadcast waits for the write.
        _relaying[relay.QuoteId] = submitted;
        PersistAsync(submitted, e =>
        {
            _relaying.Remove(e.QuoteId);
            Apply(e);
            // Only an explicit refusal by the node means "not sent". A timeout, a reset connection or a garbled
            // answer may hide an accepted transaction: it is watched and broadcast again, never released.
            rpc.SendRawTransactionAsync(signed.Raw).PipeTo(Self,
                success: _ => new Broadcasted(e),
                failure: error => error is RpcErrorException ? new BroadcastRefused(e, error) : new Broadcasted(e));
        });
    }

    private EthKey PickWorker()
    {
        // The worker with the fewest transactions in flight, so one stuck nonce does not hold up the pool.
        var load = _state.InFlight.Values.GroupBy(t => t.Wallet).ToDictionary(g => g.Key, g => g.Count());
        return _keys.MinBy(k => load.GetValueOrDefault(Address.Parse(k.Address.ToChecksumString())))!;
    }

    private void OnBroadcasted(Broadcasted b)
    {
        var tx = b.Tx;
        _watches[tx.QuoteId] = new ReceiptWatch(tx.TxHash, Now + _deps.Settings.FirstReceiptCheck, _deps.Settings.FirstReceiptCheck,
            Now + _deps.Settings.RebroadcastAfter, checking: false);
        _dapps.Tell(new DappCommands.RelaySucceeded(tx.DappId, tx.QuoteId, tx.TxHash, tx.Wallet, tx.Nonce));
    }

    private void OnBroadcastRefused(BroadcastRefused refused)
    {
        var tx = refused.Tx;
        var reason = refused.Cause.Message;
        _log.Warning("Pool {0}: {1} for quote {2} was refused: {3}", _chainId, tx.TxHash, tx.QuoteId, reason);
        var failed = new TxBroadcastFailed(_chainId, tx.QuoteId, tx.TxHash, tx.Wallet, tx.Nonce, reason,
            Meta.System($"pool-{_chainId}", "broadcast refused", Now, tx.QuoteId.Value));
        Persist(failed, e =>
        {
            Apply(e);
            var wallet = EthAddress.Parse(e.Wallet.Value);
            // A refusal about the nonce itself means the chain and the book disagree: ask the chain. Any
            // other refusal (funds, gas) leaves the nonce unused, so it is handed out again.
            if (NonceConflict(reason)) ResyncNonce(wallet);
            else _nonces.Free(wallet, e.Nonce);
            _dapps.Tell(new DappCommands.RelayFailed(tx.DappId, tx.QuoteId, reason));
        });
    }

    private static bool NonceConflict(string reason) =>
        reason.Contains("nonce", StringComparison.OrdinalIgnoreCase) || reason.Contains("replacement", StringComparison.OrdinalIgnoreCase)
                                                                     || reason.Contains("already known", StringComparison.OrdinalIgnoreCase);

    private void ResyncNonce(EthAddress wallet) =>
        _rpc?.GetTransactionCountAsync(wallet.ToChecksumString(), BlockTag.Pending)
            .PipeTo(Self, success: n => new NoncesLoaded(new Dictionary<EthAddress, BigInteger> { [wallet] = n }), failure: e => new NoncesFailed(e));

    private void OnTick()
    {
        PersistAcknowledgements();
        var now = Now;
        foreach (var (quoteId, watch) in _watches.ToArray())
        {
            if (watch.Checking || watch.Due > now || !_state.InFlight.TryGetValue(quoteId, out var tx)) continue;
            if (now >= watch.RebroadcastAt)
            {
                Rebroadcast(tx);
                watch.RebroadcastAt = now + _deps.Settings.RebroadcastAfter;
            }

            watch.Checking = true;
            _rpc!.GetTransactionReceiptAsync(tx.TxHash).PipeTo(Self,
                success: receipt => new ReceiptChecked(quoteId, receipt, null),
                failure: error => new ReceiptChecked(quoteId, null, error));
        }

        foreach (var (quoteId, delivery) in _deliveries.ToArray())
        {
            if (delivery.Due > now || !_state.AwaitingAck.TryGetValue(quoteId, out var confirmed)) continue;
            DeliverSettlement(confirmed);
            var backoff = Min(delivery.Backoff * 2, _deps.Settings.MaxSettleRedelivery);
            _deliveries[quoteId] = (now + delivery.Backoff, backoff);
        }
    }

    private void OnReceipt(ReceiptChecked checkedReceipt)
    {
        if (!_watches.TryGetValue(checkedReceipt.QuoteId, out var watch)) return;
        watch.Checking = false;
        if (checkedReceipt.Receipt is not { } receipt)
        {
            if (watch.SuspectDropped && checkedReceipt.Error is null && _state.InFlight.TryGetValue(checkedReceipt.QuoteId, out var dropped))
            {
                Drop(dropped);
                return;
            }

            if (checkedReceipt.Error is not null)
                _log.Debug("Pool {0}: receipt check of {1} failed: {2}", _chainId, watch.TxHash, checkedReceipt.Error.Message);
            watch.Due = Now + watch.Backoff;
            watch.Backoff = Min(watch.Backoff * 1.5, _deps.Settings.MaxReceiptBackoff);
            return;
        }

        _watches.Remove(checkedReceipt.QuoteId);
        var tx = _state.InFlight[checkedReceipt.QuoteId];
        var confirmed = new TxConfirmed(_chainId, tx.QuoteId, tx.DappId, tx.TxHash, receipt.GasUsed, new Wei(receipt.EffectiveGasPrice), receipt.Succeeded,
            receipt.BlockNumber, Meta.System($"pool-{_chainId}", "receipt observed", Now, tx.QuoteId.Value));
        PersistAsync(confirmed, e =>
        {
            Apply(e);
            DeliverSettlement(e);
            _deliveries[e.QuoteId] = (Now + _deps.Settings.FirstSettleRedelivery, _deps.Settings.FirstSettleRedelivery * 2);
        });
    }

    private void DeliverSettlement(TxConfirmed e) =>
        _dapps.Tell(new DappCommands.SettleFee(e.DappId, e.QuoteId, _chainId, e.TxHash, e.GasUsed, e.EffectiveGasPrice, e.Succeeded, e.BlockNumber, e.Meta.At));

    private void OnSettleAck(DappReplies.SettleAck ack)
    {
        _deliveries.Remove(ack.QuoteId);
        if (_state.AwaitingAck.ContainsKey(ack.QuoteId)) _acknowledged.Add(ack.QuoteId);
    }

    /// <summary>Journals the acknowledgements of the last tick in one write; until then a restart only re-delivers (idempotently).</summary>
    private void PersistAcknowledgements()
    {
        if (_acknowledged.Count == 0) return;
        var acknowledged = new SettlementsAcknowledged(_chainId, _acknowledged.ToArray(),
            Meta.System($"pool-{_chainId}", "dApps recorded the settlements", Now, $"acks-{Now.ToUnixTimeMilliseconds()}"));
        _acknowledged.Clear();
        Persist(acknowledged, Apply);
    }

    /// <summary>
    /// Broadcasts a journaled transaction again. "already known" is fine; "nonce too low" means its nonce was
    /// used, by it (then its receipt exists) or by another transaction (then it was dropped): the next receipt
    /// check tells which.
    /// </summary>
    private void Rebroadcast(TxSubmitted tx) =>
        _rpc?.SendRawTransactionAsync(Hex.Decode(tx.RawTx)).PipeTo(Self,
            success: _ => RebroadcastRefused.None,
            failure: error => error is RpcErrorException rpc && rpc.RpcMessage.Contains("nonce too low", StringComparison.OrdinalIgnoreCase)
                ? new RebroadcastRefused(tx.QuoteId)
                : RebroadcastRefused.None);

    private void OnRebroadcastRefused(RebroadcastRefused refused)
    {
        if (refused.QuoteId is not { } quoteId || !_watches.TryGetValue(quoteId, out var watch)) return;
        watch.SuspectDropped = true;
        watch.Due = Now;
    }

    /// <summary>The transaction's nonce went to another one and it has no receipt: it will never be mined, so its hold is released.</summary>
    private void Drop(TxSubmitted tx)
    {
        _watches.Remove(tx.QuoteId);
        var reason = "dropped: its nonce was used by another transaction";
        _log.Warning("Pool {0}: {1} for quote {2} was {3}", _chainId, tx.TxHash, tx.QuoteId, reason);
        Persist(new TxBroadcastFailed(_chainId, tx.QuoteId, tx.TxHash, tx.Wallet, tx.Nonce, reason,
            Meta.System($"pool-{_chainId}", "transaction dropped", Now, tx.QuoteId.Value)), e =>
        {
            Apply(e);
            _dapps.Tell(new DappCommands.RelayFailed(tx.DappId, tx.QuoteId, reason));
        });
    }

    private void Register(RegisterWorkerWallet command)
    {
        var (reply, events) = _state.Handle(command);
        if (events.Count == 0)
        {
            Sender.Tell(reply);
            return;
        }

        var sender = Sender;
        PersistAll(events, e =>
        {
            Apply(e);
            if (e == events[^1]) sender.Tell(reply);
        });
    }

    private void Apply(IPoolEvent e)
    {
        _state = _state.Apply(e);
        if (LastSequenceNr % _deps.Settings.SnapshotEvery == 0) SaveSnapshot(_state);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private sealed record NoncesLoaded(IReadOnlyDictionary<EthAddress, BigInteger> Nonces);

    private sealed record NoncesFailed(Exception Cause);

    private sealed class RetryLoadNonces
    {
        public static readonly RetryLoadNonces Instance = new();
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Broadcasted(TxSubmitted Tx);

    private sealed record BroadcastRefused(TxSubmitted Tx, Exception Cause);

    private sealed record ReceiptChecked(QuoteId QuoteId, TransactionReceipt? Receipt, Exception? Error);

    /// <summary>In-memory watch of one in-flight transaction (rebuilt from the journal after a restart).</summary>
    private sealed class ReceiptWatch(string txHash, DateTimeOffset due, TimeSpan backoff, DateTimeOffset rebroadcastAt, bool checking)
    {
        public string TxHash { get; } = txHash;
        public DateTimeOffset Due { get; set; } = due;
        public TimeSpan Backoff { get; set; } = backoff;
        public DateTimeOffset RebroadcastAt { get; set; } = rebroadcastAt;
        public bool Checking { get; set; } = checking;

        /// <summary>A rebroadcast was answered "nonce too low": without a receipt now, it was dropped.</summary>
        public bool SuspectDropped { get; set; }
    }

    /// <summary>The answer to a rebroadcast that matters: "nonce too low" (<see cref="QuoteId"/> set), or nothing to do.</summary>
    private sealed record RebroadcastRefused(QuoteId? QuoteId)
    {
        public static readonly RebroadcastRefused None = new((QuoteId?)null);
    }
}
