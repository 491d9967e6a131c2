using GrandPaymaster.Actors.Audit;
using System.Numerics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Chain.Transactions;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Pools;
using static GrandPaymaster.Domain.Pools.PoolCommands;
using static GrandPaymaster.Domain.Pools.PoolEvents;
using Address = GrandPaymaster.Domain.Common.Address;

namespace GrandPaymaster.Actors.Pools;

/// <summary>
/// The sharded, persistent gas pool of one chain (<c>pool-{chainId}</c>). Every decision is <see cref="PoolState"/>'s;
/// this actor only does the I/O around it: signs with the journaled workers' keys, journals each step's events, then
/// broadcasts, tells dApps and publishes the mode; polls the head, finds receipts per block (<see cref="ReceiptWatch"/>)
/// and re-delivers settlements until acknowledged (<see cref="SettlementOutbox"/>). A step's events are applied at
/// once, so the next decision sees them (a nonce is never handed out twice), and nothing leaves the actor before they
/// are written: a failed write stops the actor and recovery rebuilds the state from the journal.
/// </summary>
public sealed class ChainPoolActor : AuditedPersistentActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ChainId _chainId;
    private readonly PoolDependencies _deps;
    private readonly IActorRef _dapps;
    private readonly IPoolChain? _chain;
    private readonly PoolSettings _settings;
    private readonly SettlementOutbox _outbox;
    private readonly ReceiptWatch? _watch;
    private PoolState _state;
    private readonly HashSet<string> _unjournaled = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<Address, Task> _broadcastTail = new();
    private int _writesInFlight;
    private long _lastSnapshotAt;
    private int _stashed;

    public ChainPoolActor(ChainId chainId, PoolDependencies deps, IActorRef dapps)
    {
        _chainId = chainId;
        _deps = deps;
        _dapps = dapps;
        _chain = deps.Chain(chainId);
        _settings = deps.SettingsFor(chainId);
        _outbox = new SettlementOutbox(_settings);
        _watch = _chain is null ? null : new ReceiptWatch(_chain, _settings);
        PersistenceId = PersistenceIdFor(chainId);
        _state = PoolState.Empty(chainId);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is PoolState snapshot) _state = snapshot;
            _lastSnapshotAt = offer.Metadata.SequenceNr;
        });
        Recover<IPoolEvent>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ => Start());

        Syncing();
    }

    public override string PersistenceId { get; }
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Relays held back while the pool syncs its nonces; every one of them is asked for again by its dApp.</summary>
    public const int MaxStashedRelays = 10_000;

    public static string PersistenceIdFor(ChainId chainId) => $"pool-{chainId}";

    public static Props PropsFor(ChainId chainId, PoolDependencies deps, IActorRef dapps) =>
        Props.Create(() => new ChainPoolActor(chainId, deps, dapps));

    private DateTimeOffset Now => _deps.Clock.GetUtcNow();

    private PoolPolicy Policy => _settings.Policy;

    /// <summary>
    /// Until the workers' nonces are read from the chain, relays wait (up to <see cref="MaxStashedRelays"/>; beyond, they
    /// are dropped and the dApps ask again); the chain and settlements are watched meanwhile.
    /// </summary>
    private void Syncing()
    {
        Command<RelayTransaction>(_ =>
        {
            if (_stashed >= MaxStashedRelays) return;
            _stashed++;
            Stash.Stash();
        });
        Command<NonceRead>(read =>
        {
            OnNonceRead(read);
            if (KeyedWorkers.All(_state.Synced.Contains)) Serving();
        });
        Common();
    }

    private void Serving()
    {
        _log.Info("Pool {0}: {1} worker(s) synced, {2} transaction(s) in flight, {3} settlement(s) undelivered, mode {4}",
            _chainId, _state.Synced.Count, _state.Pending.Count(), _state.AwaitingAck.Count(), _state.Mode.Mode);
        Become(() =>
        {
            Command<RelayTransaction>(relay => Run(_state.Relay(relay, Now, Policy)));
            Command<NonceRead>(OnNonceRead);
            Common();
        });
        _stashed = 0;
        Stash.UnstashAll();
    }

    private void Common()
    {
        Command<RegisterWorkerWallet>(Register);
        Command<SetPoolMode>(command =>
        {
            if (_state.StaleRefusal(command) is { } stale)
            {
                Sender.Tell(new DappReplies.Rejected(stale));
                return;
            }

            var sender = Sender;
            Run(_state.SetMode(command, Now));
            DeferAsync(_state.Mode, mode => sender.Tell(mode));
        });
        Command<PausePool>(command => CircuitBreaker(_state.Pause(command, Now)));
        Command<ResumePool>(command => CircuitBreaker(_state.Resume(command, Now)));
        Command<GetPoolState>(_ => Sender.Tell(_state));
        Command<ObserveMarket>(market => Run(_state.ObserveMarket(market, Now, Policy)));
        Command<GetPoolSummary>(_ => Sender.Tell(_state.Summary() with { BlocksBehind = (long)(_watch?.BlocksBehind ?? 0) }));
        Command<DappReplies.SettleAck>(ack => _outbox.Acknowledged(ack.QuoteId));
        Command<Tick>(_ => OnTick());
        Command<HeadRead>(OnHead);
        Command<ReceiptWatch.ScanResult>(scanned =>
        {
            _watch!.Scanned(scanned, Now);
            SettleDeep();
            // Behind the head (a burst of blocks): read on at once rather than a tick later.
            _watch.NextScan(WatchedHashes(), Now)?.PipeTo(Self);
        });
        Command<ReceiptWatch.CanonicalChecked>(check => Final(_watch!.Verified(check)));
        Command<ReceiptWatch.LookedUp>(OnLookedUp);
        Command<Broadcasted>(OnBroadcasted);
        Command<Preflighted>(p => Run(_state.OnPreflight(p.QuoteId, p.Verdict, Now, Policy)));
        Command<NonceReadFailed>(failed =>
        {
            _log.Warning("Pool {0}: cannot read the nonce of {1} yet ({2}); retrying", _chainId, failed.Wallet, Redacted(failed.Cause));
            Timers.StartSingleTimer($"nonce-{failed.Wallet}", new RetryNonce(failed.Wallet), TimeSpan.FromSeconds(1));
        });
        Command<RetryNonce>(retry => ReadNonce(retry.Wallet));
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Snapshot of {0} failed; recovery replays more events", PersistenceId));
    }

    /// <summary>
    /// After recovery: publish the mode, read every worker's nonce, broadcast every pending transaction again and look
    /// each one up at once (it may have been mined while the pool was down), and deliver undelivered settlements.
    /// </summary>
    private void Start()
    {
        _state = _state.AfterRecovery();
        _deps.PublishMode(Context.System, _state.Mode);
        foreach (var wallet in KeyedWorkers) ReadNonce(wallet);
        var now = Now;
        foreach (var tx in _state.Pending.OrderBy(t => t.Nonce))
        {
            Broadcast(tx.Wallet, tx.Nonce, tx.Latest.TxHash, tx.Latest.RawTx);
            _watch?.LookupSoon(tx.QuoteId.Value, now);
        }

        foreach (var effect in _state.Redeliveries) RunEffect(effect);
        Timers.StartPeriodicTimer("tick", Tick.Instance, _settings.Tick);
    }

    /// <summary>An operator's pause or resume: a refusal at once, else the mode once the change is journaled.</summary>
    private void CircuitBreaker((Rejection? Refused, PoolStep Step) decision)
    {
        var sender = Sender;
        if (decision.Refused is { } refused)
        {
            sender.Tell(new DappReplies.Rejected(refused));
            return;
        }

        Run(decision.Step);
        DeferAsync(_state.Mode, mode => sender.Tell(mode));
    }

    /// <summary>Workers in the journal that this node holds a key for: the only ones the pool signs with.</summary>
    private IEnumerable<Address> KeyedWorkers => _state.Workers.Where(w => _deps.Keys.KeyFor(_chainId, w) is not null);

    // ---------------------------------------------------------------- running decisions

    /// <summary>
    /// Journals a step's events (already applied to <see cref="_state"/>), then carries out its effects. A step without
    /// events still waits for the writes in flight before anything leaves the actor (an answer may rest on one of them);
    /// only signing runs at once, so the next decision sees the nonce it used.
    /// </summary>
    private void Run(PoolStep step)
    {
        _state = step.State;
        if (step.Events.Count == 0)
        {
            foreach (var sign in step.Effects.OfType<PoolEffect.Sign>()) RunEffect(sign);
            var outward = step.Effects.Where(e => e is not PoolEffect.Sign).ToArray();
            if (outward.Length == 0) return;
            if (_writesInFlight == 0)
                foreach (var effect in outward) RunEffect(effect);
            else
                DeferAsync(outward, effects =>
                {
                    foreach (var effect in effects) RunEffect(effect);
                });
            return;
        }

        _writesInFlight++;
        var signed = step.Events.Select(SignedHash).OfType<string>().ToArray();
        _unjournaled.UnionWith(signed);
        var remaining = step.Events.Count;
        // Wallet balances moved (gas paid): a hint to the treasury's Orchestrator to read them again (issue 11).
        var confirmed = step.Events.Any(e => e is TxConfirmed);
        PersistAllAsync(step.Events, _ =>
        {
            if (--remaining > 0) return;
            _writesInFlight--;
            if (confirmed) _deps.BalanceChanged?.Invoke(Context.System, _chainId);
            _unjournaled.ExceptWith(signed);
            foreach (var effect in step.Effects.Where(e => e is not PoolEffect.Sign)) RunEffect(effect);
            MaybeSnapshot();
        });
        // Signing runs at once here too (after this step's write was queued, so the transaction it journals is written
        // after these events and broadcast only once written): the next decision sees the nonce it used.
        foreach (var sign in step.Effects.OfType<PoolEffect.Sign>()) RunEffect(sign);
    }

    /// <summary>The hash an event records a signature of: such a transaction may be broadcast only once it is journaled.</summary>
    private static string? SignedHash(IPoolEvent e) => e switch
    {
        TxSubmitted s => s.TxHash,
        TxReplaced r => r.Attempt.TxHash,
        GapFillSubmitted g => g.Attempt.TxHash,
        _ => null,
    };

    private void RunEffect(PoolEffect effect)
    {
        switch (effect)
        {
            case PoolEffect.Sign sign:
                SignAndSubmit(sign.Request);
                break;
            case PoolEffect.Broadcast b:
                Broadcast(b.Wallet, b.Nonce, b.TxHash, b.RawTx);
                break;
            case PoolEffect.ToDapp { Message: DappCommands.SettleFee settle } toDapp:
                _outbox.Sent(settle.QuoteId, Now);
                _dapps.Tell(toDapp.Message);
                break;
            case PoolEffect.ToDapp toDapp:
                if (toDapp.Message is DappCommands.RelayFailed failed) ForgetWatch(failed.QuoteId);
                _dapps.Tell(toDapp.Message);
                break;
            case PoolEffect.Preflight preflight when _chain is { } chain:
                var quoteId = preflight.Relay.QuoteId;
                chain.PreflightAsync(preflight.Relay).PipeTo(Self, success: verdict => new Preflighted(quoteId, verdict),
                    failure: _ => new Preflighted(quoteId, PreflightVerdict.Unknown));
                break;
            case PoolEffect.PublishMode publish:
                _log.Warning("Pool {0} is now {1} ({2}): {3}", _chainId, publish.View.Mode, publish.View.Cause, publish.View.Reason);
                _deps.PublishMode(Context.System, publish.View);
                break;
        }
    }

    /// <summary>Signs what the state asked for with the worker's key and hands the result back to the state.</summary>
    private void SignAndSubmit(SignRequest request)
    {
        if (_deps.Keys.KeyFor(_chainId, request.Wallet) is not { } key)
        {
            _log.Error("Pool {0}: no key for worker {1}; nothing signed", _chainId, request.Wallet);
            return;
        }

        var self = request.Wallet.ToChain();
        var tx = request.Kind switch
        {
            AttemptKind.Original => new Eip1559Transaction(_chainId.Value, request.Nonce, request.PriorityFeePerGas, request.MaxFeePerGas, request.Relay!.GasLimit,
                request.Relay.To.ToChain(), BigInteger.Zero, Hex.Decode(request.Relay.DataHex)),
            AttemptKind.SpeedUp => SpeedUp(request),
            _ => new Eip1559Transaction(_chainId.Value, request.Nonce, request.PriorityFeePerGas, request.MaxFeePerGas, 21_000, self, BigInteger.Zero, []),
        };
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var signed = tx.Sign(key);
        _deps.Signing?.Record(_chainId, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        Run(_state.OnSigned(request, signed.TxHashHex, signed.RawHex, Now));
    }

    private static Eip1559Transaction SpeedUp(SignRequest request)
    {
        var original = TransactionDecoder.Decode(Hex.Decode(request.BasedOnRawTx!)).Transaction as Eip1559Transaction
                       ?? throw new InvalidOperationException("Pool transactions are EIP-1559.");
        return original with { MaxFeePerGas = request.MaxFeePerGas, MaxPriorityFeePerGas = request.PriorityFeePerGas };
    }

    /// <summary>
    /// Broadcasts an attempt once the wallet's previous broadcast has been answered, so a node receives each wallet's
    /// transactions in the order they were signed: concurrent sends arrive out of nonce order, which a mempool may
    /// keep queued (anvil's automine then stops including them: foundry-rs/foundry#10122). A worker's broadcasts
    /// are therefore bounded by one RPC round trip each; more workers, more in parallel. A failure of any kind is an
    /// unknown verdict (the attempt stays watched), never a lost answer.
    /// </summary>
    private void Broadcast(Address wallet, BigInteger nonce, string txHash, string rawTx)
    {
        if (_chain is not { } chain) return;
        var previous = _broadcastTail.GetValueOrDefault(wallet) ?? Task.CompletedTask;
        var sent = previous.ContinueWith(_ => DeliverAsync(chain, txHash, rawTx), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default)
            .Unwrap();
        _broadcastTail[wallet] = sent;
        sent.PipeTo(Self, success: r => new Broadcasted(wallet, nonce, txHash, r.Verdict, r.Reason),
            failure: _ => new Broadcasted(wallet, nonce, txHash, BroadcastVerdict.Unknown, "unknown: broadcast failed"));
    }

    /// <summary>
    /// Sends a raw transaction. When the answer proves nothing (a timeout, a reset), the wallet's next transaction must
    /// not overtake it: the node is asked whether it has it and, if not, it is sent again (a few times, briefly), so a
    /// lost send does not leave a nonce gap at the node under the wallet's later transactions. The verdict reported is
    /// still the first answer's: a copy's answer proves nothing about the first send.
    /// </summary>
    private static async Task<(BroadcastVerdict Verdict, string Reason)> DeliverAsync(IPoolChain chain, string txHash, string rawTx)
    {
        var first = await chain.BroadcastAsync(rawTx);
        if (first.Verdict != BroadcastVerdict.Unknown) return first;
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            try
            {
                if (await chain.IsKnownAsync(txHash)) break;
            }
            catch (Exception e) when (e is Chain.Rpc.RpcException or InvalidOperationException)
            {
                // Cannot tell: send the copy anyway.
            }

            await chain.BroadcastAsync(rawTx);
            await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt));
        }

        return first;
    }

    private void OnBroadcasted(Broadcasted b)
    {
        if (b.Verdict == BroadcastVerdict.Refused)
            _log.Warning("Pool {0}: broadcast of {1} (nonce {2} of {3}) refused: {4}", _chainId, b.TxHash, b.Nonce, b.Wallet, b.Reason);
        Run(_state.OnBroadcast(b.TxHash, b.Verdict, b.Reason, Now, Policy));
        FillSlots();
        if (b.Verdict != BroadcastVerdict.NonceTooLow) return;
        // The chain and our book disagree about this wallet: read its nonce again and look the transaction up now.
        ReadNonce(b.Wallet);
        if (_state.Pending.FirstOrDefault(t => t.Owns(b.TxHash)) is { } tx) _watch?.LookupSoon(tx.QuoteId.Value, Now);
    }

    // ---------------------------------------------------------------- nonces

    private void ReadNonce(Address wallet) =>
        _chain?.NonceAsync(wallet, null).PipeTo(Self, success: n => new NonceRead(wallet, n), failure: e => new NonceReadFailed(wallet, e));

    private void OnNonceRead(NonceRead read) => Run(_state.SyncNonce(read.Wallet, read.PendingCount, Now));

    // ---------------------------------------------------------------- the loop

    private void OnTick()
    {
        var now = Now;
        Run(_state.Acknowledge(_outbox.TakeAcknowledged(), now));
        foreach (var quoteId in _outbox.Due(now))
            if (_state.Txs.TryGetValue(quoteId, out var tx) && tx.Confirmed is { } confirmed)
                _dapps.Tell(((PoolEffect.ToDapp)PoolState.SettleEffect(confirmed)).Message);

        if (_chain is null || _watch is null) return;
        if (!_watch.PollingHead)
        {
            _watch.PollingHead = true;
            _chain.HeadAsync().PipeTo(Self, success: head => new HeadRead(head, null), failure: e => new HeadRead(null, e));
        }

        Run(_state.Tick(now, _watch.Head?.BaseFee, Policy));
        FillSlots();
        LookUpStragglers(now);
    }

    /// <summary>Signs queued relays while a worker has room (each signature is in the state before the next is picked).</summary>
    private void FillSlots()
    {
        while (!_state.QueuedForSlot.IsEmpty)
        {
            var step = _state.NextFromSlotQueue(Now, Policy);
            // No worker has room (or the pool does not serve): the same state comes back. Anything else is progress, a
            // stale id dropped from the queue's head included.
            if (ReferenceEquals(step.State, _state)) return;
            Run(step);
        }
    }

    private void OnHead(HeadRead read)
    {
        _watch!.PollingHead = false;
        if (read.Head is not { } head)
        {
            _log.Debug("Pool {0}: head poll failed: {1}", _chainId, Redacted(read.Error));
            Run(_state.ObserveEndpoints(_chain!.AnyAvailable, Now, Policy));
            return;
        }

        Run(_state.ObserveEndpoints(true, Now, Policy));
        _watch.HeadSeen(head, Now);
        _watch.NextScan(WatchedHashes(), Now)?.PipeTo(Self);
        SettleDeep();
    }

    private IReadOnlySet<string> WatchedHashes()
    {
        var hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var tx in _state.Pending)
        foreach (var attempt in tx.Attempts)
            hashes.Add(attempt.TxHash);
        foreach (var gap in _state.GapFills.Values) hashes.Add(gap.Attempt.TxHash);
        return hashes;
    }

    private void SettleDeep()
    {
        var (final, checks) = _watch!.Deep();
        Final(final);
        foreach (var check in checks) check.PipeTo(Self);
    }

    private void Final(IReadOnlyList<FoundReceipt> receipts)
    {
        foreach (var r in receipts)
        {
            var tx = _state.Pending.FirstOrDefault(t => t.Owns(r.TxHash));
            var gap = _state.GapFills.FirstOrDefault(g => string.Equals(g.Value.Attempt.TxHash, r.TxHash, StringComparison.OrdinalIgnoreCase));
            if (tx is null && gap.Value is null)
            {
                // Seen again after it was settled (a lookup answering after the block scan): nothing to do.
                if (_state.Settled.Values.Contains(r.TxHash, StringComparer.OrdinalIgnoreCase) || _state.Txs.Values.Any(t => t.Confirmed?.TxHash == r.TxHash))
                    continue;
                // Ours (it was watched) but no longer open: released, yet mined. The pool paid for it; an operator must know.
                _log.Error("Pool {0}: transaction {1} was mined at block {2} after its quote was closed", _chainId, r.TxHash, r.BlockNumber);
                continue;
            }

            Run(_state.OnFinalReceipt(r.TxHash, r.GasUsed, r.EffectiveGasPrice, r.Succeeded, r.BlockNumber, r.BlockHash, Now, Policy, r.Forwarded));
            if (tx is not null) ForgetWatch(tx.QuoteId, tx);
            else _watch!.Forget([r.TxHash], gap.Key);
        }

        FillSlots();
    }

    /// <summary>
    /// Pending transactions and gap fills the block scan has not settled for a while: broadcast the latest attempt
    /// again (a node may have dropped it) and look each up on its own.
    /// </summary>
    private void LookUpStragglers(DateTimeOffset now)
    {
        foreach (var tx in _state.Pending)
        {
            if (_state.AwaitingVerdict.Contains(tx.Original.TxHash) || !_watch!.LookupDue(tx.QuoteId.Value, now)) continue;
            // The latest attempt that is in the journal: one still being written is broadcast by its own step.
            if (tx.Attempts.LastOrDefault(a => !_unjournaled.Contains(a.TxHash)) is { } journaled)
                Broadcast(tx.Wallet, tx.Nonce, journaled.TxHash, journaled.RawTx);
            _watch.LookUpAsync(tx.QuoteId.Value, tx.Wallet, tx.Nonce, tx.Attempts.Select(a => a.TxHash).ToArray()).PipeTo(Self);
        }

        foreach (var (key, gap) in _state.GapFills)
        {
            if (!_watch!.LookupDue(key, now)) continue;
            if (!_unjournaled.Contains(gap.Attempt.TxHash)) Broadcast(gap.Wallet, gap.Nonce, gap.Attempt.TxHash, gap.Attempt.RawTx);
            _watch.LookUpAsync(key, gap.Wallet, gap.Nonce, [gap.Attempt.TxHash]).PipeTo(Self);
        }
    }

    private void OnLookedUp(ReceiptWatch.LookedUp found)
    {
        _watch!.LookupDone(found.Key);
        if (found.Receipt is { } receipt)
        {
            _watch.Seen(receipt);
            SettleDeep();
            return;
        }

        var open = _state.GapFills.TryGetValue(found.Key, out var gap) ? [gap.Attempt.TxHash]
            : QuoteId.TryParse(found.Key, out var quote) && _state.Txs.TryGetValue(quote, out var tx) ? tx.Attempts.Select(a => a.TxHash).ToArray()
            : [];
        // A proof counts only if it covered every attempt signed so far, and only once it was seen twice in a row (an
        // endpoint ahead of another can make one lookup look like a drop).
        if (!_watch.ConfirmNonceTaken(found, open, Now)) return;
        if (gap is not null)
        {
            Run(_state.OnGapNonceConsumed(gap.Wallet, gap.Nonce, Now));
            _watch.Forget([gap.Attempt.TxHash], found.Key);
        }
        else if (QuoteId.TryParse(found.Key, out var quoteId))
        {
            _log.Warning("Pool {0}: the nonce of quote {1} went to another transaction; releasing its hold", _chainId, quoteId);
            Run(_state.OnNonceTakenByOther(quoteId, Now, Policy));
        }
    }

    private void ForgetWatch(QuoteId quoteId, PoolTx? tx = null) =>
        _watch?.Forget(tx?.Attempts.Select(a => a.TxHash) ?? [], quoteId.Value);

    // ---------------------------------------------------------------- registration, snapshots

    private void Register(RegisterWorkerWallet command)
    {
        var (reply, events) = _state.Handle(command);
        var sender = Sender;
        if (events.Count == 0)
        {
            sender.Tell(reply);
            return;
        }

        Run(new PoolStep(events.Aggregate(_state, (s, e) => s.Apply(e)), events, []));
        DeferAsync(reply, r =>
        {
            sender.Tell(r);
            if (_deps.Keys.KeyFor(_chainId, command.Wallet) is not null) ReadNonce(command.Wallet);
        });
    }

    /// <summary>
    /// A rejected write (a serializer error, say) leaves events applied in memory that the journal does not have: restart
    /// and recover from the journal rather than go on from a state it cannot reproduce.
    /// </summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        base.OnPersistRejected(cause, @event, sequenceNr);
        throw new InvalidOperationException($"Pool {_chainId}: the journal rejected event {sequenceNr}; restarting from the journal.", cause);
    }

    /// <summary>Only with no write in flight is the in-memory state exactly the journal's: then it may be saved.</summary>
    private void MaybeSnapshot()
    {
        if (_writesInFlight > 0 || LastSequenceNr - _lastSnapshotAt < _settings.SnapshotEvery) return;
        _lastSnapshotAt = LastSequenceNr;
        SaveSnapshot(_state);
    }

    private static string Redacted(Exception? e) => e is null ? "" : Chain.Rpc.RpcRedaction.Redact(e.Message);

    private sealed record NonceRead(Address Wallet, BigInteger PendingCount);

    private sealed record NonceReadFailed(Address Wallet, Exception Cause);

    private sealed record RetryNonce(Address Wallet);

    private sealed record HeadRead(ChainHead? Head, Exception? Error);

    private sealed record Preflighted(QuoteId QuoteId, PreflightVerdict Verdict);

    private sealed record Broadcasted(Address Wallet, BigInteger Nonce, string TxHash, BroadcastVerdict Verdict, string Reason);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
