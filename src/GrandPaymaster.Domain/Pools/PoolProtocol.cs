using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Domain.Pools;

/// <summary>What a chain's pool does with new relays (DESIGN.md §2; SAFE_MODE comes with the market issue).</summary>
public enum PoolMode
{
    /// <summary>Relays and quotes are served.</summary>
    Normal,

    /// <summary>No new relays or quotes; in-flight transactions are still watched and settled. Auto or manual, see <see cref="PauseCause"/>.</summary>
    Paused,

    /// <summary>Switched off by an operator; in-flight transactions are still watched and settled.</summary>
    Disabled,

    /// <summary>
    /// Relays and quotes are served defensively while the market is unsettled (a gas spike, volatility, a congested
    /// mempool, failing transactions): the buffer is multiplied and quotes above the chain's high-value limit refused.
    /// Entered and left by the pool itself (<see cref="PauseCause.Auto"/>), leaving only after a calm period.
    /// </summary>
    SafeMode,
}

/// <summary>Who paused a pool: the pool itself (every RPC endpoint down; it resumes by itself) or an operator (only an operator resumes it).</summary>
public enum PauseCause
{
    None,
    Auto,
    Manual,
}

/// <summary>A pool's mode, why, and since when; replicated to every edge so quotes are refused without an actor round trip.</summary>
public sealed record PoolModeView(ChainId ChainId, PoolMode Mode, PauseCause Cause, string Reason, DateTimeOffset Since) : IPaymasterMessage
{
    public static PoolModeView Initial(ChainId chainId) => new(chainId, PoolMode.Normal, PauseCause.None, "", DateTimeOffset.UnixEpoch);

    public bool Serves => Mode is PoolMode.Normal or PoolMode.SafeMode;
}

/// <summary>Why one more signed transaction exists for a nonce.</summary>
public enum AttemptKind
{
    /// <summary>The relay as first signed.</summary>
    Original,

    /// <summary>The same call with both fees bumped ≥ 12.5 %, capped by what the hold covers.</summary>
    SpeedUp,

    /// <summary>A 0-value self-send at the same nonce, paid by the pool: the relay can no longer be priced within its hold.</summary>
    Cancel,

    /// <summary>A 0-value self-send that fills a nonce no relay uses, so later nonces of the wallet can be mined.</summary>
    GapFill,
}

/// <summary>One signed transaction at a pool nonce. Only one attempt per nonce can ever be mined.</summary>
public sealed record TxAttempt(string TxHash, string RawTx, BigInteger MaxFeePerGas, BigInteger PriorityFeePerGas, AttemptKind Kind, DateTimeOffset At);

/// <summary>What the node said to a broadcast (DESIGN.md §3). Only <see cref="Refused"/> proves it will never be mined.</summary>
public enum BroadcastVerdict
{
    Accepted,
    Refused,
    NonceTooLow,
    Unknown,
}

/// <summary>
/// A relay that calls the chain's ERC-2771 forwarder for a user: the pool relays one user's requests one at a time, in
/// the order of their forwarder nonces. <paramref name="Simulated"/>: the edge simulated it against the chain's current state.
/// </summary>
public sealed record ForwardedCall(Address Forwarder, Address User, BigInteger UserNonce, long Deadline, bool Simulated = false);

/// <summary>An <c>ExecutedForwardRequest</c> event in a receipt: which forwarder ran which user's nonce, and whether the call succeeded.</summary>
public sealed record ForwardExecution(Address Forwarder, Address Signer, BigInteger Nonce, bool Success);

/// <summary>What simulating a forwarded request right before signing it says.</summary>
public enum PreflightVerdict
{
    /// <summary>It would succeed now: sign it.</summary>
    Passes,

    /// <summary>The user's nonce on the forwarder is still below the request's: an earlier request has to be mined first.</summary>
    NonceAhead,

    /// <summary>The user's nonce on the forwarder is past the request's: it can never be executed.</summary>
    NonceUsed,

    Expired,
    UntrustedTarget,

    /// <summary>The forwarded call reverts, or needs more gas than the quote covers.</summary>
    CallReverts,

    /// <summary>The chain could not be asked (an outage): try again shortly.</summary>
    Unknown,
}

/// <summary>Commands and queries a chain pool entity accepts.</summary>
public static class PoolCommands
{
    /// <summary>Any message handled by a pool entity.</summary>
    public interface IPoolCommand : IWithChainId, IPaymasterMessage;

    /// <summary>Adds a hot wallet to the pool's worker set; registering a known wallet again changes nothing.</summary>
    public sealed record RegisterWorkerWallet(ChainId ChainId, Address Wallet, Meta Meta) : IPoolCommand;

    /// <summary>Asks for the pool's current state; answered with <see cref="PoolState"/>.</summary>
    public sealed record GetPoolState(ChainId ChainId) : IPoolCommand;

    /// <summary>Asks for the figures an operator watches; answered with <see cref="PoolReplies.PoolSummary"/>.</summary>
    public sealed record GetPoolSummary(ChainId ChainId) : IPoolCommand;

    /// <summary>
    /// From a dApp whose fee is held: send this call from a pool wallet. At-least-once: a second request
    /// for the same quote is answered with the first transaction, never a second one.
    /// <paramref name="MaxFeePerGas"/> is the cap the hold covers; <paramref name="GasPrice"/> the price the quote was made at
    /// (the first attempt's max fee, leaving room to speed it up). A zero gas price means "sign at the cap".
    /// </summary>
    public sealed record RelayTransaction(ChainId ChainId, QuoteId QuoteId, DappId DappId, Address To, string DataHex, BigInteger GasLimit, Wei MaxFeePerGas,
        Wei GasPrice = default, ForwardedCall? Forward = null) : IPoolCommand;

    /// <summary>
    /// Sets the pool's mode (the timelock's <c>chain.disable</c> / <c>chain.enable</c>); the reason is journaled. With
    /// <paramref name="OnlyFrom"/> the change applies only while the pool is in that mode (enabling lifts a disable and nothing
    /// else: it never resumes a pause). With <paramref name="ScheduledAt"/> (when the timelocked change was scheduled) a change
    /// that would flip the chain is refused as stale (<c>timelock_stale</c>) if the chain was disabled or enabled after that
    /// (<see cref="PoolState.StaleRefusal"/>). Answered with the pool's <see cref="PoolModeView"/> after the write, or the refusal.
    /// </summary>
    public sealed record SetPoolMode(ChainId ChainId, PoolMode Mode, Meta Meta, PoolMode? OnlyFrom = null, DateTimeOffset? ScheduledAt = null) : IPoolCommand;

    /// <summary>
    /// The manual circuit breaker: an operator pauses the pool at once (no new quotes or relays; in-flight transactions are
    /// still watched and settled). Answered with the <see cref="PoolModeView"/>, or a refusal when the pool is disabled.
    /// </summary>
    public sealed record PausePool(ChainId ChainId, Meta Meta) : IPoolCommand;

    /// <summary>
    /// Lifts an operator's pause: the pool returns to the mode the pause interrupted (see <see cref="PoolState.Resume"/>).
    /// Answered with the <see cref="PoolModeView"/>, or a refusal (a pause the pool set itself, or a disabled pool).
    /// </summary>
    public sealed record ResumePool(ChainId ChainId, Meta Meta) : IPoolCommand;

    /// <summary>
    /// The gas oracle's view of the chain at one tick (the market side of SAFE_MODE): the gas median and its trailing
    /// average, volatility in basis points and, where the node offers <c>txpool_status</c>, how many transactions wait.
    /// </summary>
    public sealed record ObserveMarket(ChainId ChainId, BigInteger Median, BigInteger TrailingAverage, int VolatilityBps, BigInteger? MempoolPending,
        DateTimeOffset At) : IPoolCommand;
}

/// <summary>Replies a pool entity sends back.</summary>
public static class PoolReplies
{
    /// <summary>Answer to <see cref="PoolCommands.RegisterWorkerWallet"/>; <paramref name="Added"/> is false when it was known.</summary>
    public sealed record WorkerWalletRegistration(ChainId ChainId, Address Wallet, bool Added) : IPaymasterMessage;

    /// <summary>
    /// What an operator watches: transactions not yet final (and since when the oldest waits), receipts the dApps have not
    /// acknowledged, nonce gaps being filled, how many workers are synced with the chain, how many blocks the receipt
    /// scan has still to read, and relays taken but not signed yet (waiting for a worker slot or their user's turn).
    /// </summary>
    public sealed record PoolSummary(ChainId ChainId, int InFlight, DateTimeOffset? OldestInFlightSince, int UndeliveredSettlements, int GapFills,
        int Workers, int SyncedWorkers, long BlocksBehind = 0, int Queued = 0) : IPaymasterMessage;
}

/// <summary>Events in a chain pool's journal (its audit log).</summary>
public static class PoolEvents
{
    /// <summary>Every pool event says who, when and why.</summary>
    public interface IPoolEvent : IPaymasterMessage
    {
        Meta Meta { get; }
    }

    /// <summary>A hot wallet joined the pool's worker set.</summary>
    public sealed record WorkerWalletRegistered(ChainId ChainId, Address Wallet, Meta Meta) : IPoolEvent;

    /// <summary>
    /// A signed transaction, journaled before it is broadcast so that a crash can never lose a sent
    /// transaction: the raw bytes let recovery broadcast it again. <paramref name="FeeCap"/> is the highest
    /// max fee per gas the quote's hold covers (replacements stay within it).
    /// </summary>
    public sealed record TxSubmitted(ChainId ChainId, QuoteId QuoteId, DappId DappId, Address Wallet, BigInteger Nonce, string TxHash, string RawTx, Meta Meta,
        BigInteger MaxFeePerGas = default, BigInteger PriorityFeePerGas = default, BigInteger FeeCap = default, ForwardedCall? Forward = null) : IPoolEvent;

    /// <summary>
    /// The node refused the transaction with an answer that proves it will never mine it; it was sent to no other
    /// node, so its nonce is free again (and is reused or filled). <paramref name="Reason"/> is ours, never the node's text.
    /// </summary>
    public sealed record TxBroadcastFailed(ChainId ChainId, QuoteId QuoteId, string TxHash, Address Wallet, BigInteger Nonce, string Reason, Meta Meta)
        : IPoolEvent;

    /// <summary>A stuck transaction got another attempt at its nonce (a speed-up or a cancel), journaled before it is broadcast.</summary>
    public sealed record TxReplaced(ChainId ChainId, QuoteId QuoteId, TxAttempt Attempt, Meta Meta) : IPoolEvent;

    /// <summary>The receipt of whichever attempt was mined, at the chain's confirmation depth.</summary>
    public sealed record TxConfirmed(ChainId ChainId, QuoteId QuoteId, DappId DappId, string TxHash, BigInteger GasUsed, Wei EffectiveGasPrice, bool Succeeded,
        BigInteger BlockNumber, Meta Meta, string BlockHash = "") : IPoolEvent;

    /// <summary>
    /// The quote's transaction can never be mined: its nonce was consumed, at the confirmation depth, by our cancel
    /// (<paramref name="CancelTxHash"/>, whose cost the pool bears) or by a transaction that is not ours. The hold is released.
    /// </summary>
    public sealed record TxDropped(ChainId ChainId, QuoteId QuoteId, string Reason, Meta Meta, string? CancelTxHash = null, BigInteger CancelCostWei = default)
        : IPoolEvent;

    /// <summary>
    /// The quote's relay was refused before anything was signed, and never will be (a repeated request is answered with
    /// this release): the pool was disabled, or a forwarded request can no longer be executed (its deadline passed, its
    /// nonce was used or an earlier request of its user failed, its call reverts). The hold is released.
    /// </summary>
    public sealed record RelayRefused(ChainId ChainId, QuoteId QuoteId, DappId DappId, string Reason, Meta Meta, string Code = RejectionCodes.RelayFailed)
        : IPoolEvent;

    /// <summary>
    /// The dApps recorded these settlements; the pool stops re-delivering them. Acknowledgements are
    /// collected for a tick and journaled together: one write instead of one per transaction.
    /// </summary>
    public sealed record SettlementsAcknowledged(ChainId ChainId, IReadOnlyList<QuoteId> QuoteIds, Meta Meta) : IPoolEvent;

    /// <summary>The pool's mode changed; <see cref="Meta"/> says who (the pool itself or an operator) and why.</summary>
    public sealed record PoolModeChanged(ChainId ChainId, PoolMode Mode, PauseCause Cause, Meta Meta) : IPoolEvent;

    /// <summary>A resync found nonces of a wallet that no transaction of ours holds below ones that do: they are filled.</summary>
    public sealed record NonceGapFound(ChainId ChainId, Address Wallet, IReadOnlyList<BigInteger> Nonces, Meta Meta) : IPoolEvent;

    /// <summary>A 0-value self-send at a free nonce below an in-flight one, so the wallet's later transactions can be mined.</summary>
    public sealed record GapFillSubmitted(ChainId ChainId, Address Wallet, BigInteger Nonce, TxAttempt Attempt, Meta Meta) : IPoolEvent;

    /// <summary>The gap's nonce is consumed (by the fill or by anything else); <paramref name="CostWei"/> is what the fill cost the pool, if it was mined.</summary>
    public sealed record GapFilled(ChainId ChainId, Address Wallet, BigInteger Nonce, Meta Meta, BigInteger CostWei = default) : IPoolEvent;
}
