using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Fees;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Domain.Dapps;

/// <summary>What a dApp asks us to sponsor. <see cref="DataHex"/> is the call data, <c>0x</c>-prefixed.</summary>
public sealed record QuoteRequest(ChainId ChainId, Address Sender, Address To, string DataHex, BigInteger GasLimit, FeeToken Token);

/// <summary>
/// The ERC-2771 terms of a forwarded quote, which the user signs as an EIP-712 <c>ForwardRequest</c>: the chain's
/// forwarder, the user's forwarder nonce this quote reserves, a deadline (unix seconds) no later than the quote's expiry,
/// and the gas the forwarder passes on to the target. The quote's gas limit is the whole transaction's.
/// </summary>
public sealed record ForwardTerms(Address Forwarder, BigInteger UserNonce, long Deadline, BigInteger InnerGas);

/// <summary>What the edge read for a forwarded quote: the chain's forwarder, the user's nonce on it and the gas the call needs.</summary>
public sealed record ForwardInputs(Address Forwarder, BigInteger ChainNonce, BigInteger InnerGas);

/// <summary>A target an operator allows a dApp to call straight from a pool wallet (not forwarded), on one chain.</summary>
public sealed record DirectCallTarget(ChainId ChainId, Address Target);

/// <summary>The market figures a quote is priced with, read by the edge from the local snapshot.</summary>
public sealed record MarketInputs(Wei GasPrice, Bps Buffer, ConversionRate Rate);

/// <summary>A priced offer; it moves no money until executed. <see cref="Forward"/> is null for a direct call from a pool wallet.</summary>
public sealed record Quote(QuoteId Id, QuoteRequest Request, FeeBreakdown Breakdown, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt,
    ForwardTerms? Forward = null)
{
    public bool IsExpiredAt(DateTimeOffset now) => now >= ExpiresAt;
}

/// <summary>What the chain reported for a relayed transaction and what it cost the dApp.</summary>
public sealed record SettlementRecord(
    string TxHash,
    BigInteger GasUsed,
    Wei EffectiveGasPrice,
    bool Succeeded,
    BigInteger BlockNumber,
    DateTimeOffset ConfirmedAt,
    DateTimeOffset SettledAt,
    Settlement Amounts);

/// <summary>Why and when a hold went back to the balance without a transaction.</summary>
public sealed record HoldRelease(string Reason, DateTimeOffset At);

/// <summary>Where an executed quote stands.</summary>
public enum ExecutionStatus
{
    Deducted,
    Submitted,
    Settled,
    Released,
}

/// <summary>An executed quote: the hold, the transaction and, in the end, its settlement or release.</summary>
public sealed record Execution(
    Quote Quote,
    TokenAmount Hold,
    string IdempotencyKey,
    string RequestHash,
    string? ClientReference,
    DateTimeOffset DeductedAt,
    string? TxHash = null,
    DateTimeOffset? SubmittedAt = null,
    SettlementRecord? Settlement = null,
    HoldRelease? Release = null,
    System.Collections.Immutable.ImmutableList<string>? Replacements = null,
    string? UserSignature = null)
{
    /// <summary>Every hash signed for this quote's nonce: the first relay, then speed-ups and cancels.</summary>
    public IReadOnlyList<string> TxHashes =>
        (TxHash is null ? [] : new[] { TxHash }).Concat(Replacements ?? []).ToArray();

    public ExecutionStatus Status =>
        Settlement is not null ? ExecutionStatus.Settled
        : Release is not null ? ExecutionStatus.Released
        : TxHash is not null ? ExecutionStatus.Submitted
        : ExecutionStatus.Deducted;

    /// <summary>A hold is open until the quote is settled or released.</summary>
    public bool HoldIsOpen => Status is ExecutionStatus.Deducted or ExecutionStatus.Submitted;
}

/// <summary>
/// One token's books for a dApp. The ledger law holds at every moment:
/// <c>Deposited = Available + Held + Settled</c>. <see cref="Shortfall"/> is outside it: fees the
/// hold could not cover, which the paymaster absorbed.
/// </summary>
public sealed record Ledger(BigInteger Deposited, BigInteger Available, BigInteger Held, BigInteger Settled, BigInteger Shortfall)
{
    public static readonly Ledger Empty = new(0, 0, 0, 0, 0);

    public bool LawHolds => Deposited == Available + Held + Settled && Available >= 0 && Held >= 0 && Settled >= 0;
}

/// <summary>A refusal with a stable code (see DESIGN.md §7), a message for people and, for "come back later", when.</summary>
public sealed record Rejection(string Code, string Message, int? RetryAfterSeconds = null);

/// <summary>The stable error codes the dApp entity answers with.</summary>
public static class RejectionCodes
{
    public const string Unauthorized = "unauthorized";
    public const string DappNotFound = "dapp_not_found";
    public const string AlreadyRegistered = "already_registered";
    public const string QuoteNotFound = "quote_not_found";
    public const string QuoteExpired = "quote_expired";
    public const string QuoteAlreadyExecuted = "quote_already_executed";
    public const string InsufficientBalance = "insufficient_balance";
    public const string IdempotencyConflict = "idempotency_conflict";
    public const string RelayFailed = "relay_failed";
    public const string InvalidRequest = "invalid_request";
    public const string PoolUnavailable = "pool_unavailable";
    public const string RateUnavailable = "rate_unavailable";
    public const string SafeModeHighValueRejected = "safe_mode_high_value_rejected";
    public const string PoolPaused = "pool_paused";
    public const string PoolDisabled = "pool_disabled";
    public const string InvalidSignature = "invalid_signature";
    public const string NonceStale = "nonce_stale";
    public const string RequestExpired = "request_expired";
    public const string UntrustedTarget = "untrusted_target";
    public const string SimulationReverted = "simulation_reverted";
    public const string DirectCallNotAllowed = "direct_call_not_allowed";
    public const string DappFrozen = "dapp_frozen";
    public const string Denylisted = "denylisted";
    public const string DailyCapExceeded = "daily_cap_exceeded";
    public const string UserCapExceeded = "user_cap_exceeded";
    public const string MaxFeeExceeded = "max_fee_exceeded";
    public const string ChainNotAllowed = "chain_not_allowed";
    public const string TargetNotAllowed = "target_not_allowed";
    public const string TooManyOpenQuotes = "too_many_open_quotes";
    public const string Throttled = "throttled";
    public const string Overloaded = "overloaded";
    public const string Forbidden = "forbidden";
    public const string DepositReferenceConflict = "deposit_reference_conflict";
    public const string GasLimitExceeded = "gas_limit_exceeded";
}
