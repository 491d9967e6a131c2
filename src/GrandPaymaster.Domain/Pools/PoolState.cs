using System.Collections.Immutable;
using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Timelock;
using static GrandPaymaster.Domain.Pools.PoolCommands;
using static GrandPaymaster.Domain.Pools.PoolEvents;

namespace GrandPaymaster.Domain.Pools;

/// <summary>The pool's knobs that its decisions depend on; timings come from configuration.</summary>
public sealed record PoolPolicy
{
    /// <summary>Tip offered to the block producer, capped by the attempt's max fee per gas.</summary>
    public BigInteger PriorityFeePerGas { get; init; } = 1_000_000_000;

    /// <summary>A pending transaction whose latest attempt is this old is sped up (or, at its cap, cancelled).</summary>
    public TimeSpan StuckAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The most a cancel (which the pool pays for) may offer per gas. A cancel that would need more is not signed: the
    /// stuck transaction and its hold wait for the base fee to come down (its attempts are still broadcast and watched).
    /// </summary>
    public BigInteger MaxCancelFeePerGas { get; init; } = 1_000_000_000_000; // 1,000 gwei

    /// <summary>A free nonce below an in-flight one that no relay took for this long is filled with a self-send.</summary>
    public TimeSpan GapFillAfter { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>After an automatic pause, endpoints must answer this long before the pool serves again (hysteresis).</summary>
    public TimeSpan ResumeAfter { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A worker's transactions not yet final, at most. A node keeps only so many per sender (geth guarantees 16 executable
    /// ones) and a devnet slows down as its txpool grows; relays beyond wait in the pool's queue (<see cref="PoolState.SlotQueue"/>).
    /// </summary>
    public int MaxInFlightPerWorker { get; init; } = 64;

    /// <summary>When the market makes the pool defensive (SAFE_MODE) and when it may stop.</summary>
    public SafeModePolicy SafeMode { get; init; } = new();

    /// <summary>Replacement bump: ≥ 12.5 % on both fees (nodes ask for 10 %).</summary>
    public static BigInteger Bump(BigInteger fee) => Fees.FeeEngine.CeilDiv(fee * 1_125, 1_000) + 1;
}

/// <summary>A relayed quote's transaction: its nonce, every attempt signed for it and, once final, its receipt.</summary>
public sealed record PoolTx(
    QuoteId QuoteId,
    DappId DappId,
    Address Wallet,
    BigInteger Nonce,
    BigInteger FeeCap,
    ImmutableList<TxAttempt> Attempts,
    DateTimeOffset SubmittedAt,
    TxConfirmed? Confirmed = null,
    ForwardedCall? Forward = null)
{
    public TxAttempt Original => Attempts[0];
    public TxAttempt Latest => Attempts[^1];
    public bool IsPending => Confirmed is null;
    public bool Owns(string txHash) => Attempts.Any(a => string.Equals(a.TxHash, txHash, StringComparison.OrdinalIgnoreCase));
}

/// <summary>A 0-value self-send filling a nonce nobody else uses.</summary>
public sealed record GapFill(Address Wallet, BigInteger Nonce, TxAttempt Attempt);

/// <summary>
/// One worker's nonces: <see cref="Next"/> is one past the highest nonce we signed (or the chain's pending count,
/// whichever is higher); <see cref="Free"/> holds nonces whose transaction was refused, with when, reused lowest first.
/// </summary>
public sealed record WalletNonces(BigInteger Next, ImmutableSortedDictionary<BigInteger, DateTimeOffset> Free)
{
    public static readonly WalletNonces Empty = new(BigInteger.Zero, ImmutableSortedDictionary<BigInteger, DateTimeOffset>.Empty);
}

/// <summary>What the pool asks its host to do once the step's events are journaled.</summary>
public abstract record PoolEffect
{
    private PoolEffect()
    {
    }

    /// <summary>Sign this now (the host holds the keys) and hand the result to <see cref="PoolState.OnSigned"/>.</summary>
    public sealed record Sign(SignRequest Request) : PoolEffect;

    /// <summary>Send this raw transaction to the chain and report the verdict to <see cref="PoolState.OnBroadcast"/>.</summary>
    public sealed record Broadcast(Address Wallet, BigInteger Nonce, string TxHash, string RawTx) : PoolEffect;

    /// <summary>Tell the quote's dApp (relay answers, replacements, settlements).</summary>
    public sealed record ToDapp(DappCommands.IDappCommand Message) : PoolEffect;

    /// <summary>The mode changed: publish it to the edges.</summary>
    public sealed record PublishMode(PoolModeView View) : PoolEffect;

    /// <summary>Simulate this forwarded relay against the chain and report to <see cref="PoolState.OnPreflight"/>.</summary>
    public sealed record Preflight(PoolCommands.RelayTransaction Relay) : PoolEffect;
}

/// <summary>
/// What to sign. <see cref="To"/> null means a 0-value self-send (cancel, gap fill); for a speed-up the host re-signs
/// <see cref="BasedOnRawTx"/> with the new fees.
/// </summary>
public sealed record SignRequest(
    AttemptKind Kind,
    Address Wallet,
    BigInteger Nonce,
    BigInteger MaxFeePerGas,
    BigInteger PriorityFeePerGas,
    RelayTransaction? Relay = null,
    QuoteId? QuoteId = null,
    string? BasedOnRawTx = null);

/// <summary>The pool's next state, the events to journal (already applied to it) and what to do after the write.</summary>
public sealed record PoolStep(PoolState State, IReadOnlyList<PoolEvents.IPoolEvent> Events, IReadOnlyList<PoolEffect> Effects);

/// <summary>
/// The gas pool of one chain, as a pure state machine (DESIGN.md §3): relays, broadcast verdicts, receipts,
/// speed-ups and cancels, drops, nonce gaps, settlement acknowledgements and modes. Every decision returns a
/// <see cref="PoolStep"/>; <see cref="Apply"/> folds a journaled event and is all recovery needs. A few facts are
/// transient — which first broadcasts still await their verdict, which wallets were synced with the chain, since when
/// endpoints answer again — and are rebuilt after a restart.
/// </summary>
public sealed partial record PoolState(
    ChainId ChainId,
    PoolModeView Mode,
    ImmutableList<Address> Workers,
    ImmutableDictionary<QuoteId, PoolTx> Txs,
    ImmutableDictionary<QuoteId, string> Released,
    ImmutableList<QuoteId> ReleasedOrder,
    ImmutableDictionary<QuoteId, string> Settled,
    ImmutableList<QuoteId> SettledOrder,
    ImmutableDictionary<Address, WalletNonces> Wallets,
    ImmutableDictionary<string, GapFill> GapFills,
    ImmutableHashSet<string> AwaitingVerdict,
    ImmutableHashSet<Address> Synced,
    DateTimeOffset? AnsweringSince) : IPaymasterMessage
{
    /// <summary>
    /// Released quotes (with the reason) and quotes whose settlement the dApp acknowledged (with the mined hash), each
    /// remembered this many so a repeated relay request is never signed again; older ones are only in the journal.
    /// </summary>
    public const int RetainClosed = 2_000;

    public static PoolState Empty(ChainId chainId) => new(chainId, PoolModeView.Initial(chainId), ImmutableList<Address>.Empty,
        ImmutableDictionary<QuoteId, PoolTx>.Empty, ImmutableDictionary<QuoteId, string>.Empty, ImmutableList<QuoteId>.Empty,
        ImmutableDictionary<QuoteId, string>.Empty, ImmutableList<QuoteId>.Empty,
        ImmutableDictionary<Address, WalletNonces>.Empty, ImmutableDictionary<string, GapFill>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableHashSet<string>.Empty.WithComparer(StringComparer.OrdinalIgnoreCase), ImmutableHashSet<Address>.Empty, null);

    /// <summary>Transactions not yet final.</summary>
    public IEnumerable<PoolTx> Pending => Txs.Values.Where(t => t.IsPending);

    /// <summary>Receipts delivered to dApps that have not acknowledged them yet.</summary>
    public IEnumerable<TxConfirmed> AwaitingAck => Txs.Values.Where(t => !t.IsPending).Select(t => t.Confirmed!);

    public PoolReplies.PoolSummary Summary()
    {
        var inFlight = 0;
        var undelivered = 0;
        DateTimeOffset? oldest = null;
        foreach (var tx in Txs.Values)
        {
            if (!tx.IsPending)
            {
                undelivered++;
                continue;
            }

            inFlight++;
            if (oldest is null || tx.SubmittedAt < oldest) oldest = tx.SubmittedAt;
        }

        var queued = Waiting.Count + QueuedForSlot.Keys.Count(q => !Waiting.ContainsKey(q));
        return new PoolReplies.PoolSummary(ChainId, inFlight, oldest, undelivered, GapFills.Count, Workers.Count, Synced.Count, Queued: queued);
    }

    public WalletNonces NoncesOf(Address wallet) => Wallets.GetValueOrDefault(wallet, WalletNonces.Empty);

    // ---------------------------------------------------------------- decisions

    public (PoolReplies.WorkerWalletRegistration Reply, IReadOnlyList<IPoolEvent> Events) Handle(RegisterWorkerWallet command)
    {
        if (command.ChainId != ChainId)
            throw new ArgumentException($"Command for chain {command.ChainId} reached the pool of chain {ChainId}.", nameof(command));
        if (Workers.Contains(command.Wallet))
            return (new PoolReplies.WorkerWalletRegistration(ChainId, command.Wallet, Added: false), []);
        return (new PoolReplies.WorkerWalletRegistration(ChainId, command.Wallet, Added: true),
            [new WorkerWalletRegistered(ChainId, command.Wallet, command.Meta)]);
    }

    /// <summary>
    /// A dApp asks to relay a held quote. A known quote gets the answer it got before (or none yet, while its first
    /// broadcast has no verdict); a settled one whose settlement the dApp acknowledged, none (the request is stale);
    /// a paused pool answers nothing (the dApp asks again); a disabled one releases the hold, journaled so that the
    /// quote is never signed once the pool is enabled again; otherwise the least busy synced worker signs at its
    /// lowest free nonce.
    /// </summary>
    public PoolStep Relay(RelayTransaction relay, DateTimeOffset now, PoolPolicy policy)
    {
        if (Txs.TryGetValue(relay.QuoteId, out var known))
            return AwaitingVerdict.Contains(known.Original.TxHash) ? Nothing : Effects(Succeeded(known));
        if (Released.TryGetValue(relay.QuoteId, out var reason)) return Effects(new PoolEffect.ToDapp(new DappCommands.RelayFailed(relay.DappId, relay.QuoteId, reason)));
        if (Settled.ContainsKey(relay.QuoteId)) return Nothing;
        if (Mode.Mode == PoolMode.Disabled)
        {
            var refused = new RelayRefused(ChainId, relay.QuoteId, relay.DappId, $"pool {ChainId} is disabled; nothing was signed",
                SystemMeta("relay refused: pool disabled", now, relay.QuoteId.Value));
            return Step([refused], new PoolEffect.ToDapp(new DappCommands.RelayFailed(relay.DappId, relay.QuoteId, refused.Reason)));
        }

        if (!Mode.Serves) return Nothing;
        return relay.Forward is null ? SignOriginal(relay, policy) : QueueForwarded(relay, now, policy);
    }

    /// <summary>The least busy synced worker signs the relay at its lowest free nonce (nothing while no worker is synced).</summary>
    private PoolStep SignOriginal(RelayTransaction relay, PoolPolicy policy)
    {
        var wallet = PickWorker(policy);
        if (wallet is not { } worker) return Workers.Any(Synced.Contains) ? QueueForSlot(relay) : Nothing;
        var nonces = NoncesOf(worker);
        var nonce = nonces.Free.Count > 0 ? nonces.Free.Keys.First() : nonces.Next;
        var cap = relay.MaxFeePerGas.Value;
        var maxFee = relay.GasPrice.Value.IsZero ? cap : BigInteger.Min(relay.GasPrice.Value, cap);
        return Effects(new PoolEffect.Sign(new SignRequest(AttemptKind.Original, worker, nonce, maxFee, BigInteger.Min(policy.PriorityFeePerGas, maxFee), relay,
            relay.QuoteId)));
    }

    /// <summary>A signed attempt: journal it, then broadcast it.</summary>
    public PoolStep OnSigned(SignRequest request, string txHash, string rawTx, DateTimeOffset now)
    {
        var attempt = new TxAttempt(txHash, rawTx, request.MaxFeePerGas, request.PriorityFeePerGas, request.Kind, now);
        var broadcast = new PoolEffect.Broadcast(request.Wallet, request.Nonce, txHash, rawTx);
        switch (request.Kind)
        {
            case AttemptKind.Original:
                var relay = request.Relay ?? throw new ArgumentException("An original attempt is signed for a relay.", nameof(request));
                // Released while it was being signed (a forwarded request past its deadline, say): the signature is thrown away.
                if (Released.ContainsKey(relay.QuoteId) || Txs.ContainsKey(relay.QuoteId)) return Nothing;
                var submitted = new TxSubmitted(ChainId, relay.QuoteId, relay.DappId, request.Wallet, request.Nonce, txHash, rawTx,
                    SystemMeta("relay held transaction", now, relay.QuoteId.Value), request.MaxFeePerGas, request.PriorityFeePerGas, relay.MaxFeePerGas.Value,
                    relay.Forward);
                var step = Step([submitted], broadcast);
                return step with { State = step.State with { AwaitingVerdict = step.State.AwaitingVerdict.Add(txHash) } };
            case AttemptKind.GapFill:
                return Step([new GapFillSubmitted(ChainId, request.Wallet, request.Nonce, attempt, SystemMeta("fill a nonce gap", now))], broadcast);
            default:
                var quoteId = request.QuoteId ?? throw new ArgumentException("A replacement names its quote.", nameof(request));
                var tx = Txs[quoteId];
                var why = request.Kind == AttemptKind.Cancel ? "cancel: no speed-up fits the hold" : "speed up a stuck transaction";
                return Step([new TxReplaced(ChainId, quoteId, attempt, SystemMeta(why, now, quoteId.Value))], broadcast,
                    new PoolEffect.ToDapp(new DappCommands.RelayReplaced(tx.DappId, quoteId, txHash, request.Kind.ToString())));
        }
    }

    /// <summary>
    /// The node's verdict on a broadcast. Only the first broadcast of a relay answers the dApp; only a proven refusal
    /// of it releases the hold (and frees the nonce). A later attempt's verdict proves nothing: the watch goes on.
    /// </summary>
    public PoolStep OnBroadcast(string txHash, BroadcastVerdict verdict, string reason, DateTimeOffset now, PoolPolicy policy)
    {
        if (!AwaitingVerdict.Contains(txHash)) return Nothing;
        var tx = Txs.Values.FirstOrDefault(t => t.IsPending && string.Equals(t.Original.TxHash, txHash, StringComparison.OrdinalIgnoreCase));
        var state = this with { AwaitingVerdict = AwaitingVerdict.Remove(txHash) };
        if (tx is null) return new PoolStep(state, [], []);
        if (verdict != BroadcastVerdict.Refused || tx.Attempts.Count > 1) return new PoolStep(state, [], [Succeeded(tx)]);

        var failed = new TxBroadcastFailed(ChainId, tx.QuoteId, txHash, tx.Wallet, tx.Nonce, reason, SystemMeta("broadcast refused", now, tx.QuoteId.Value));
        return state.Step([failed], new PoolEffect.ToDapp(new DappCommands.RelayFailed(tx.DappId, tx.QuoteId, reason)))
            .AfterForward(tx, nonceUsed: false, now, policy);
    }

    /// <summary>
    /// A receipt at the confirmation depth for one of our hashes. A relay attempt settles; our cancel releases the
    /// hold (the pool bears its cost); a gap fill closes the gap.
    /// </summary>
    /// <remarks>
    /// A forwarded call succeeded only if the receipt carries the forwarder's <c>ExecutedForwardRequest</c> for its user and
    /// nonce with success (<paramref name="executions"/>); a mined but reverted one is settled as a failed call (its gas is billed).
    /// </remarks>
    public PoolStep OnFinalReceipt(string txHash, BigInteger gasUsed, BigInteger effectiveGasPrice, bool succeeded, BigInteger blockNumber, string blockHash,
        DateTimeOffset now, PoolPolicy policy, IReadOnlyList<ForwardExecution>? executions = null)
    {
        var gap = GapFills.Values.FirstOrDefault(g => string.Equals(g.Attempt.TxHash, txHash, StringComparison.OrdinalIgnoreCase));
        if (gap is not null)
            return Step([new GapFilled(ChainId, gap.Wallet, gap.Nonce, SystemMeta("gap fill mined", now), gasUsed * effectiveGasPrice)]);

        var tx = Txs.Values.FirstOrDefault(t => t.Owns(txHash));
        if (tx is null || !tx.IsPending) return Nothing;
        var attempt = tx.Attempts.First(a => string.Equals(a.TxHash, txHash, StringComparison.OrdinalIgnoreCase));
        if (attempt.Kind == AttemptKind.Cancel)
        {
            var dropped = new TxDropped(ChainId, tx.QuoteId, "cancelled: no replacement within the hold could be mined", SystemMeta("cancel mined", now, tx.QuoteId.Value),
                attempt.TxHash, gasUsed * effectiveGasPrice);
            return Step([dropped], new PoolEffect.ToDapp(new DappCommands.RelayFailed(tx.DappId, tx.QuoteId, dropped.Reason)))
                .AfterForward(tx, nonceUsed: false, now, policy);
        }

        if (tx.Forward is { } call) succeeded = succeeded && ForwardSucceeded(call, executions);
        var confirmed = new TxConfirmed(ChainId, tx.QuoteId, tx.DappId, attempt.TxHash, gasUsed, new Wei(effectiveGasPrice), succeeded, blockNumber,
            SystemMeta("receipt at confirmation depth", now, tx.QuoteId.Value), blockHash);
        return Step([confirmed], SettleEffect(confirmed)).AfterForward(tx, nonceUsed: succeeded, now, policy);
    }

    /// <summary>
    /// The chain proved that none of the quote's attempts can be mined: their nonce is consumed, at the confirmation
    /// depth, and none of our hashes is in a block. The hold goes back.
    /// </summary>
    public PoolStep OnNonceTakenByOther(QuoteId quoteId, DateTimeOffset now, PoolPolicy policy)
    {
        if (!Txs.TryGetValue(quoteId, out var tx) || !tx.IsPending) return Nothing;
        var dropped = new TxDropped(ChainId, quoteId, "dropped: its nonce was used by another transaction", SystemMeta("transaction dropped", now, quoteId.Value));
        return Step([dropped], new PoolEffect.ToDapp(new DappCommands.RelayFailed(tx.DappId, quoteId, dropped.Reason)))
            .AfterForward(tx, nonceUsed: false, now, policy);
    }

    /// <summary>A gap fill's nonce was consumed by something else: the gap is closed all the same.</summary>
    public PoolStep OnGapNonceConsumed(Address wallet, BigInteger nonce, DateTimeOffset now) =>
        GapFills.ContainsKey(GapKey(wallet, nonce)) ? Step([new GapFilled(ChainId, wallet, nonce, SystemMeta("gap nonce consumed", now))]) : Nothing;

    /// <summary>
    /// The chain's pending count of a worker. Our next nonce never goes below our own journaled transactions; nonces
    /// between the chain's count and ours that no transaction of ours holds are gaps (a refusal forgotten before a
    /// crash, say) and are journaled as free, to be reused or filled.
    /// </summary>
    public PoolStep SyncNonce(Address wallet, BigInteger reportedCount, DateTimeOffset now)
    {
        // A lagging endpoint may report fewer than the nonces we saw mined: those are not gaps.
        var mined = Txs.Values.Where(t => t.Wallet == wallet && !t.IsPending).Select(t => t.Nonce + 1).DefaultIfEmpty(BigInteger.Zero).Max();
        var pendingCount = BigInteger.Max(reportedCount, mined);
        var nonces = NoncesOf(wallet);
        var free = nonces.Free.Where(f => f.Key >= pendingCount).ToImmutableSortedDictionary();
        var synced = this with
        {
            Wallets = Wallets.SetItem(wallet, new WalletNonces(BigInteger.Max(nonces.Next, pendingCount), free)),
            Synced = Synced.Add(wallet),
        };
        var held = Txs.Values.Where(t => t.Wallet == wallet).Select(t => t.Nonce)
            .Concat(GapFills.Values.Where(g => g.Wallet == wallet).Select(g => g.Nonce)).ToHashSet();
        var gaps = new List<BigInteger>();
        for (var n = pendingCount; n < nonces.Next && gaps.Count < 64; n++)
            if (!held.Contains(n) && !free.ContainsKey(n)) gaps.Add(n);
        return gaps.Count == 0 ? new PoolStep(synced, [], []) : synced.Step([new NonceGapFound(ChainId, wallet, gaps, SystemMeta("nonce gap found on resync", now))]);
    }

    /// <summary>
    /// The pool's clock: speeds up stuck transactions (both fees +12.5 %, within the hold's cap), cancels the ones
    /// that cannot be sped up within it (a self-send priced to be mined now; the pool pays), and fills free nonces
    /// that sit below in-flight ones for longer than <see cref="PoolPolicy.GapFillAfter"/>.
    /// </summary>
    public PoolStep Tick(DateTimeOffset now, BigInteger? baseFee, PoolPolicy policy)
    {
        var effects = new List<PoolEffect>();
        // Once per tick, not per transaction: a backlog of thousands must not make the tick quadratic.
        var lowest = LowestOpenNonces();
        var highest = new Dictionary<Address, BigInteger>();
        foreach (var tx in Pending)
            if (!highest.TryGetValue(tx.Wallet, out var top) || tx.Nonce > top) highest[tx.Wallet] = tx.Nonce;
        foreach (var tx in Pending)
        {
            // Only a wallet's lowest open nonce can be mined next: one above it is not stuck, it waits.
            if (AwaitingVerdict.Contains(tx.Original.TxHash) || now - tx.Latest.At < policy.StuckAfter || lowest[tx.Wallet] != tx.Nonce) continue;
            var last = tx.Latest;
            var maxFee = PoolPolicy.Bump(last.MaxFeePerGas);
            var tip = PoolPolicy.Bump(last.PriorityFeePerGas);
            if (last.Kind != AttemptKind.Cancel && maxFee <= tx.FeeCap)
            {
                effects.Add(new PoolEffect.Sign(new SignRequest(AttemptKind.SpeedUp, tx.Wallet, tx.Nonce, maxFee, BigInteger.Min(tip, maxFee),
                    QuoteId: tx.QuoteId, BasedOnRawTx: tx.Original.RawTx)));
                continue;
            }

            if (SelfSendFee(last, baseFee, policy) is { } cancel)
                effects.Add(new PoolEffect.Sign(new SignRequest(AttemptKind.Cancel, tx.Wallet, tx.Nonce, cancel.MaxFee, cancel.Tip, QuoteId: tx.QuoteId)));
        }

        // A stuck gap fill blocks every later nonce of its wallet: it climbs the same ladder as a cancel.
        foreach (var gap in GapFills.Values)
            if (now - gap.Attempt.At >= policy.StuckAfter && lowest[gap.Wallet] == gap.Nonce && SelfSendFee(gap.Attempt, baseFee, policy) is { } fill)
                effects.Add(new PoolEffect.Sign(new SignRequest(AttemptKind.GapFill, gap.Wallet, gap.Nonce, fill.MaxFee, fill.Tip)));

        foreach (var (wallet, nonces) in Wallets)
        {
            if (nonces.Free.Count == 0) continue;
            if (!highest.TryGetValue(wallet, out var top)) continue;
            foreach (var (nonce, freedAt) in nonces.Free)
            {
                if (nonce > top || now - freedAt < policy.GapFillAfter) continue;
                var fillFee = baseFee is { } b ? b * 2 + policy.PriorityFeePerGas : 0;
                if (fillFee.IsZero) continue;
                effects.Add(new PoolEffect.Sign(new SignRequest(AttemptKind.GapFill, wallet, nonce, fillFee, policy.PriorityFeePerGas)));
            }
        }

        return new PoolStep(this, [], effects).Then(s => s.ForwardTick(now, policy));
    }

    /// <summary>
    /// The price of a 0-value self-send (cancel or gap fill) that replaces <paramref name="last"/>: both fees ≥ 12.5 %
    /// higher and at least 2 × the base fee + tip, so it is mined now; null while the base fee is unknown or when it would
    /// pass <see cref="PoolPolicy.MaxCancelFeePerGas"/> (the pool pays for it).
    /// </summary>
    private static (BigInteger MaxFee, BigInteger Tip)? SelfSendFee(TxAttempt last, BigInteger? baseFee, PoolPolicy policy)
    {
        if (baseFee is not { } fee) return null;
        var tip = PoolPolicy.Bump(last.PriorityFeePerGas);
        var maxFee = BigInteger.Max(PoolPolicy.Bump(last.MaxFeePerGas), fee * 2 + tip);
        return maxFee > policy.MaxCancelFeePerGas ? null : (maxFee, tip);
    }

    /// <summary>Each wallet's lowest nonce held by a pending transaction or a gap fill.</summary>
    private Dictionary<Address, BigInteger> LowestOpenNonces()
    {
        var lowest = new Dictionary<Address, BigInteger>();
        foreach (var (wallet, nonce) in Pending.Select(t => (t.Wallet, t.Nonce)).Concat(GapFills.Values.Select(g => (g.Wallet, g.Nonce))))
            if (!lowest.TryGetValue(wallet, out var low) || nonce < low) lowest[wallet] = nonce;
        return lowest;
    }

    /// <summary>
    /// A mode set from outside: the timelock's <c>chain.disable</c> / <c>chain.enable</c> (with
    /// <see cref="SetPoolMode.OnlyFrom"/>, so an enable lifts a disable and nothing else). Operators pause and resume with
    /// <see cref="Pause"/> and <see cref="Resume"/>. The change is stamped with the pool's own clock (<paramref name="now"/>),
    /// so every mode of one pool is ordered by one clock wherever the request came in.
    /// </summary>
    public PoolStep SetMode(SetPoolMode command, DateTimeOffset now) =>
        ChangesMode(command)
            ? Step([new PoolModeChanged(ChainId, command.Mode, SetModeCause(command), command.Meta with { At = now })])
            : Nothing;

    /// <summary>
    /// When the chain was last disabled or enabled (entered or left <see cref="PoolMode.Disabled"/>); null when it never was.
    /// Pauses and SAFE_MODE do not count. A state from before this was kept falls back on the disable's own time.
    /// </summary>
    public DateTimeOffset? EnabledOrDisabledAt => DisabledToggledAt ?? (Mode.Mode == PoolMode.Disabled ? Mode.Since : null);

    /// <summary>Folded from the journal: the time of the last <see cref="PoolModeChanged"/> into or out of <see cref="PoolMode.Disabled"/>.</summary>
    public DateTimeOffset? DisabledToggledAt { get; init; }

    /// <summary>
    /// A timelocked <c>chain.enable</c> / <c>chain.disable</c> scheduled (<see cref="SetPoolMode.ScheduledAt"/>) before the chain
    /// was last disabled or enabled is stale: its delay was served for another situation (an enable scheduled before a later
    /// disable would lift that disable at once; a disable scheduled before a later enable would undo it). Refused only when it
    /// would change the mode: one that changes nothing (the chain is already where it leads) is answered as usual. Decided
    /// here, in the pool's one mailbox, so no other mode change can land between this check and the write.
    /// </summary>
    public Rejection? StaleRefusal(SetPoolMode command)
    {
        if (command.ScheduledAt is not { } scheduled || EnabledOrDisabledAt is not { } toggled || toggled <= scheduled || !ChangesMode(command)) return null;
        var what = Mode.Mode == PoolMode.Disabled ? "disabled" : "enabled";
        return new Rejection(TimelockCodes.Stale,
            $"Chain {ChainId} was {what} at {toggled:O}, after this change was scheduled ({scheduled:O}); it would undo that without its own delay. " +
            "Cancel it and schedule it again if it is still wanted.");
    }

    private bool ChangesMode(SetPoolMode command) =>
        !(Mode.Mode == command.Mode && Mode.Cause == SetModeCause(command)) && (command.OnlyFrom is not { } expected || Mode.Mode == expected);

    private static PauseCause SetModeCause(SetPoolMode command) => command.Mode == PoolMode.Paused ? PauseCause.Manual : PauseCause.None;

    /// <summary>
    /// Endpoint health, seen on every head poll. Every endpoint down pauses a serving pool at once; an automatic
    /// pause ends by itself once endpoints have answered for <see cref="PoolPolicy.ResumeAfter"/> (hysteresis).
    /// Manual pauses and disabled pools are left to operators.
    /// </summary>
    public PoolStep ObserveEndpoints(bool anyAnswering, DateTimeOffset now, PoolPolicy policy)
    {
        if (!anyAnswering)
        {
            var quiet = this with { AnsweringSince = null };
            return Mode.Serves
                ? quiet.Step([new PoolModeChanged(ChainId, PoolMode.Paused, PauseCause.Auto, SystemMeta("every RPC endpoint is down", now))])
                : new PoolStep(quiet, [], []);
        }

        var since = AnsweringSince ?? now;
        var answering = this with { AnsweringSince = since };
        if (Mode is not { Mode: PoolMode.Paused, Cause: PauseCause.Auto } || now - since < policy.ResumeAfter) return new PoolStep(answering, [], []);
        return answering.Step([new PoolModeChanged(ChainId, PoolMode.Normal, PauseCause.None, SystemMeta("RPC endpoints answer again", now))]);
    }

    /// <summary>The dApps recorded these settlements: stop re-delivering them (one event for a batch).</summary>
    public PoolStep Acknowledge(IReadOnlyCollection<QuoteId> quoteIds, DateTimeOffset now)
    {
        var known = quoteIds.Where(q => Txs.TryGetValue(q, out var t) && !t.IsPending).Distinct().ToArray();
        return known.Length == 0
            ? Nothing
            : Step([new SettlementsAcknowledged(ChainId, known, SystemMeta("dApps recorded the settlements", now, $"acks-{now.ToUnixTimeMilliseconds()}"))]);
    }

    /// <summary>Every settlement not yet acknowledged, to deliver again after a restart.</summary>
    public IEnumerable<PoolEffect> Redeliveries => AwaitingAck.Select(SettleEffect);

    /// <summary>The settlement message of a confirmed receipt (delivered at least once, until acknowledged).</summary>
    public static PoolEffect SettleEffect(TxConfirmed e) =>
        new PoolEffect.ToDapp(new DappCommands.SettleFee(e.DappId, e.QuoteId, e.ChainId, e.TxHash, e.GasUsed, e.EffectiveGasPrice, e.Succeeded, e.BlockNumber, e.Meta.At));

    // ---------------------------------------------------------------- folding

    public PoolState Apply(IPoolEvent @event) => @event switch
    {
        WorkerWalletRegistered e when !Workers.Contains(e.Wallet) => this with { Workers = Workers.Add(e.Wallet) },
        WorkerWalletRegistered => this,
        TxSubmitted e => UseNonce(e.Wallet, e.Nonce) with
        {
            Txs = Txs.SetItem(e.QuoteId, new PoolTx(e.QuoteId, e.DappId, e.Wallet, e.Nonce, e.FeeCap.IsZero ? e.MaxFeePerGas : e.FeeCap,
                [new TxAttempt(e.TxHash, e.RawTx, e.MaxFeePerGas, e.PriorityFeePerGas, AttemptKind.Original, e.Meta.At)], e.Meta.At, Forward: e.Forward)),
            Waiting = Waiting.Remove(e.QuoteId),
        },
        TxBroadcastFailed e => Release(e.QuoteId, e.Reason).FreeNonce(e.Wallet, e.Nonce, e.Meta.At),
        TxReplaced e => WithTx(e.QuoteId, t => t with { Attempts = t.Attempts.Add(e.Attempt) }),
        TxConfirmed e => WithTx(e.QuoteId, t => t with { Confirmed = e }).WithOutcome(e.Succeeded, e.Meta.At),
        TxDropped e => Release(e.QuoteId, e.Reason).WithOutcome(false, e.Meta.At),
        SettlementsAcknowledged e => e.QuoteIds.Aggregate(this, (s, q) => s.Txs.TryGetValue(q, out var t) && t.Confirmed is { } c ? s.RememberSettled(q, c.TxHash) : s),
        RelayRefused e => Release(e.QuoteId, e.Reason) with { Waiting = Waiting.Remove(e.QuoteId), QueuedForSlot = QueuedForSlot.Remove(e.QuoteId) },
        PoolModeChanged e => this with
        {
            Mode = new PoolModeView(ChainId, e.Mode, e.Cause, e.Meta.Reason, e.Meta.At), AnsweringSince = null,
            ModeBeforePause = e is { Mode: PoolMode.Paused, Cause: PauseCause.Manual } ? (IsManuallyPaused ? ModeBeforePause : Mode) : null,
            DisabledToggledAt = (e.Mode == PoolMode.Disabled) != (Mode.Mode == PoolMode.Disabled) ? e.Meta.At : DisabledToggledAt,
        },
        NonceGapFound e => e.Nonces.Aggregate(this, (s, n) => s.FreeNonce(e.Wallet, n, e.Meta.At)),
        GapFillSubmitted e => UseNonce(e.Wallet, e.Nonce) with { GapFills = GapFills.SetItem(GapKey(e.Wallet, e.Nonce), new GapFill(e.Wallet, e.Nonce, e.Attempt)) },
        GapFilled e => this with { GapFills = GapFills.Remove(GapKey(e.Wallet, e.Nonce)) },
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "Unknown pool event."),
    };

    /// <summary>
    /// Transient facts after recovery: no first broadcast awaits a verdict any more (each pending transaction is
    /// broadcast again and watched), no wallet is synced, endpoints have not been seen yet.
    /// </summary>
    public PoolState AfterRecovery() =>
        this with
        {
            AwaitingVerdict = AwaitingVerdict.Clear(), Synced = Synced.Clear(), AnsweringSince = null, Waiting = Waiting.Clear(),
            SlotQueue = SlotQueue.Clear(), QueuedForSlot = QueuedForSlot.Clear(), CalmSince = null,
        };

    /// <summary>
    /// Equality over journaled contents and the nonce book, so a recovered state compares equal to the one it was saved
    /// from once both have read the chain's nonces (a resync may raise <see cref="WalletNonces.Next"/> without an event).
    /// </summary>
    public bool Equals(PoolState? other) =>
        other is not null && ChainId == other.ChainId && Mode == other.Mode && ModeBeforePause == other.ModeBeforePause && DisabledToggledAt == other.DisabledToggledAt
        && Workers.SequenceEqual(other.Workers)
        && Same(Txs, other.Txs, TxEquals) && Same(Released, other.Released, string.Equals) && ReleasedOrder.SequenceEqual(other.ReleasedOrder)
        && Same(Settled, other.Settled, string.Equals) && SettledOrder.SequenceEqual(other.SettledOrder)
        && Wallets.Keys.Union(other.Wallets.Keys).All(w => NoncesOf(w).Next == other.NoncesOf(w).Next && NoncesOf(w).Free.SequenceEqual(other.NoncesOf(w).Free))
        && Same(GapFills, other.GapFills, EqualityComparer<GapFill>.Default.Equals);

    public override int GetHashCode() => HashCode.Combine(ChainId, Mode, Workers.Count, Txs.Count);

    private static bool TxEquals(PoolTx a, PoolTx b) => a with { Attempts = b.Attempts } == b && a.Attempts.SequenceEqual(b.Attempts);

    private static bool Same<TKey, TValue>(ImmutableDictionary<TKey, TValue> a, ImmutableDictionary<TKey, TValue> b, Func<TValue, TValue, bool> equal)
        where TKey : notnull =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && equal(kv.Value, v));

    // ---------------------------------------------------------------- helpers

    private PoolStep Nothing => new(this, [], []);

    /// <summary>After a forwarded transaction ended: the user's queue moves on (or its later requests are released).</summary>
    internal PoolStep AfterForwardEnded(PoolTx tx, bool nonceUsed, DateTimeOffset now, PoolPolicy policy) =>
        tx.Forward is { } call ? ForwardEnded(call, nonceUsed, now, policy) : new PoolStep(this, [], []);

    private PoolStep Effects(params PoolEffect[] effects) => new(this, [], effects);

    /// <summary>Applies the events and returns them with the effects (mode changes publish themselves).</summary>
    private PoolStep Step(IReadOnlyList<IPoolEvent> events, params PoolEffect[] effects)
    {
        var state = events.Aggregate(this, (s, e) => s.Apply(e));
        var all = events.OfType<PoolModeChanged>().Any() ? effects.Append(new PoolEffect.PublishMode(state.Mode)).ToArray() : effects;
        return new PoolStep(state, events, all);
    }

    private static PoolEffect Succeeded(PoolTx tx) =>
        new PoolEffect.ToDapp(new DappCommands.RelaySucceeded(tx.DappId, tx.QuoteId, tx.Original.TxHash, tx.Wallet, tx.Nonce));

    /// <summary>The synced worker with the fewest transactions in flight (so one stuck nonce does not hold up the pool), if one has room.</summary>
    private Address? PickWorker(PoolPolicy policy)
    {
        var load = Pending.GroupBy(t => t.Wallet).ToDictionary(g => g.Key, g => g.Count());
        return Workers.Where(w => Synced.Contains(w) && load.GetValueOrDefault(w) < policy.MaxInFlightPerWorker)
            .Select(w => (Address?)w).MinBy(w => load.GetValueOrDefault(w!.Value));
    }

    private PoolState UseNonce(Address wallet, BigInteger nonce)
    {
        var nonces = NoncesOf(wallet);
        return this with { Wallets = Wallets.SetItem(wallet, new WalletNonces(BigInteger.Max(nonces.Next, nonce + 1), nonces.Free.Remove(nonce))) };
    }

    private PoolState FreeNonce(Address wallet, BigInteger nonce, DateTimeOffset at)
    {
        var nonces = NoncesOf(wallet);
        if (nonce >= nonces.Next) return this;
        return this with { Wallets = Wallets.SetItem(wallet, nonces with { Free = nonces.Free.SetItem(nonce, at) }) };
    }

    private PoolState Release(QuoteId quoteId, string reason)
    {
        var (released, order) = Remember(Released, ReleasedOrder, quoteId, reason);
        return this with { Txs = Txs.Remove(quoteId), Released = released, ReleasedOrder = order };
    }

    /// <summary>An acknowledged settlement: no longer re-delivered, but remembered so a stale relay request is not signed again.</summary>
    private PoolState RememberSettled(QuoteId quoteId, string minedTxHash)
    {
        var (settled, order) = Remember(Settled, SettledOrder, quoteId, minedTxHash);
        return this with { Txs = Txs.Remove(quoteId), Settled = settled, SettledOrder = order };
    }

    private static (ImmutableDictionary<QuoteId, string>, ImmutableList<QuoteId>) Remember(ImmutableDictionary<QuoteId, string> memory,
        ImmutableList<QuoteId> order, QuoteId quoteId, string value)
    {
        memory = memory.SetItem(quoteId, value);
        order = order.Add(quoteId);
        while (order.Count > RetainClosed)
        {
            memory = memory.Remove(order[0]);
            order = order.RemoveAt(0);
        }

        return (memory, order);
    }

    private PoolState WithTx(QuoteId quoteId, Func<PoolTx, PoolTx> change) =>
        Txs.TryGetValue(quoteId, out var tx) ? this with { Txs = Txs.SetItem(quoteId, change(tx)) } : this;

    private static string GapKey(Address wallet, BigInteger nonce) => $"{wallet.Value}:{nonce}";

    private Meta SystemMeta(string reason, DateTimeOffset at, string? correlationId = null) => Meta.System($"pool-{ChainId}", reason, at, correlationId);
}
