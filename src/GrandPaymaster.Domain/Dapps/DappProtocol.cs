using System.Collections.Immutable;
using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Domain.Dapps;

/// <summary>Commands and queries a dApp entity accepts. Those from a dApp carry its API key hash.</summary>
public static class DappCommands
{
    public interface IDappCommand : IWithDappId, IPaymasterMessage;

    /// <summary>Commands a dApp sends with its API key.</summary>
    public interface IAuthenticated : IDappCommand
    {
        string ApiKeyHash { get; }
    }

    public sealed record Register(DappId DappId, string Name, string ApiKeyHash, Bps Surcharge, Meta Meta) : IDappCommand;

    public sealed record Deposit(DappId DappId, TokenAmount Amount, string Reference, Meta Meta) : IDappCommand;

    public sealed record GetDapp(DappId DappId) : IDappCommand;

    /// <summary>A quote; <paramref name="Forwarding"/> null asks for a direct call from a pool wallet (only to an allowed target).</summary>
    public sealed record RequestQuote(DappId DappId, string ApiKeyHash, QuoteRequest Request, MarketInputs Market, ForwardInputs? Forwarding = null)
        : IAuthenticated;

    /// <summary>
    /// Executes a quote. A forwarded quote carries the user's EIP-712 signature (hex), checked by the edge before it is sent;
    /// <paramref name="Simulated"/> says the edge simulated <c>forwarder.execute</c> with it against the chain's current state;
    /// <paramref name="ChainNonce"/> is the user's nonce on the forwarder the edge read.
    /// </summary>
    public sealed record ExecuteQuote(DappId DappId, string ApiKeyHash, QuoteId QuoteId, string IdempotencyKey, string RequestHash, string? ClientReference,
        string? UserSignature = null, bool Simulated = false, System.Numerics.BigInteger? ChainNonce = null)
        : IAuthenticated;

    /// <summary>An operator allows (or, with <paramref name="Allowed"/> false, no longer allows) direct calls to a target.</summary>
    public sealed record SetDirectCall(DappId DappId, DirectCallTarget Target, bool Allowed, Meta Meta) : IDappCommand;

    public sealed record GetQuoteStatus(DappId DappId, string ApiKeyHash, QuoteId QuoteId) : IAuthenticated;

    /// <summary>
    /// An operator sets what the dApp is allowed: its ceilings, chains, targets and quote rate (<paramref name="Policy"/>) and/or
    /// its surcharge. A part left null keeps the dApp's current one, decided inside the actor: the policy route never writes the
    /// surcharge and the timelock's <c>dapp.surcharge</c> writes only the surcharge, so neither can revert the other's change
    /// made between a read and a write.
    /// </summary>
    public sealed record SetPolicy(DappId DappId, DappPolicy? Policy, Bps? Surcharge, Meta Meta) : IDappCommand;

    /// <summary>The dApp sets its own limits per token, each at or below its operator's ceiling.</summary>
    public sealed record SetOwnLimits(DappId DappId, string ApiKeyHash, ImmutableDictionary<FeeToken, TokenLimits> Limits, Meta Meta) : IAuthenticated;

    /// <summary>The dApp's policy, its own limits and today's spending; <paramref name="ApiKeyHash"/> null for an operator.</summary>
    public sealed record GetPolicy(DappId DappId, string? ApiKeyHash) : IDappCommand;

    /// <summary>Freezes the dApp: from a fraud rule (<c>system:fraud-watch</c>) or an operator.</summary>
    public sealed record FreezeDapp(DappId DappId, string Rule, string Evidence, Meta Meta) : IDappCommand;

    /// <summary>Only an operator unfreezes; the reason is in <paramref name="Meta"/>.</summary>
    public sealed record UnfreezeDapp(DappId DappId, Meta Meta) : IDappCommand;

    /// <summary>An operator replaces the dApp's API key; the old one is refused from then on.</summary>
    public sealed record RotateApiKey(DappId DappId, string ApiKeyHash, Meta Meta) : IDappCommand;

    /// <summary>From an edge: the dApp entered THROTTLED until <paramref name="Until"/> (or, <paramref name="Throttled"/> false, left it).</summary>
    public sealed record ReportThrottle(DappId DappId, bool Throttled, string Reason, DateTimeOffset Until, Meta Meta) : IDappCommand;

    /// <summary>From an edge: it refused one of the dApp's requests with <paramref name="Code"/> before it reached the entity (fraud rules count them).</summary>
    public sealed record ReportRefusal(DappId DappId, string Code) : IDappCommand;

    public sealed record GetBalances(DappId DappId, string ApiKeyHash) : IAuthenticated;

    /// <summary>From the pool: the transaction is signed, journaled and broadcast.</summary>
    public sealed record RelaySucceeded(DappId DappId, QuoteId QuoteId, string TxHash, Address Wallet, BigInteger Nonce) : IDappCommand;

    /// <summary>
    /// From the pool: the chain proved the transaction can never be mined (refused, dropped or cancelled), or a forwarded
    /// request was found invalid before anything was signed; the hold goes back. <paramref name="Code"/> is the answer's code.
    /// </summary>
    public sealed record RelayFailed(DappId DappId, QuoteId QuoteId, string Reason, string Code = RejectionCodes.RelayFailed) : IDappCommand;

    /// <summary>From the pool: a stuck transaction got another attempt at its nonce (<paramref name="Kind"/> SpeedUp or Cancel).</summary>
    public sealed record RelayReplaced(DappId DappId, QuoteId QuoteId, string TxHash, string Kind) : IDappCommand;

    /// <summary>From the pool, at least once, until acknowledged: the receipt of a relayed transaction.</summary>
    public sealed record SettleFee(
        DappId DappId,
        QuoteId QuoteId,
        ChainId ChainId,
        string TxHash,
        BigInteger GasUsed,
        Wei EffectiveGasPrice,
        bool Succeeded,
        BigInteger BlockNumber,
        DateTimeOffset ConfirmedAt) : IDappCommand;
}

/// <summary>Answers of a dApp entity.</summary>
public static class DappReplies
{
    public sealed record Rejected(Rejection Rejection) : IPaymasterMessage;

    public sealed record Registered(DappId DappId) : IPaymasterMessage;

    public sealed record Balances(DappId DappId, ImmutableDictionary<FeeToken, Ledger> Ledgers) : IPaymasterMessage;

    public sealed record DappView(DappId DappId, string Name, Bps Surcharge, DateTimeOffset RegisteredAt, ImmutableDictionary<FeeToken, Ledger> Ledgers, int OpenHolds,
        ImmutableList<DirectCallTarget>? DirectCalls = null, Freeze? Frozen = null, DateTimeOffset? ThrottledUntil = null, int? QuotesPerSecond = null)
        : IPaymasterMessage;

    public sealed record QuoteIssued(Quote Quote) : IPaymasterMessage;

    /// <summary>
    /// A dApp's policy as it applies: the operator's <paramref name="Policy"/> and surcharge, the dApp's <paramref name="Own"/> limits,
    /// the <paramref name="Effective"/> (tighter) limits per token and what the current UTC day has used of them.
    /// </summary>
    public sealed record PolicyView(DappId DappId, DappPolicy Policy, Bps Surcharge, ImmutableDictionary<FeeToken, TokenLimits> Own,
        ImmutableDictionary<FeeToken, TokenLimits> Effective, DateOnly Day, ImmutableDictionary<FeeToken, BigInteger> SpentToday) : IPaymasterMessage;

    public sealed record ExecutionAccepted(QuoteId QuoteId, string TxHash) : IPaymasterMessage;

    /// <summary>A quote and, once executed, its execution.</summary>
    public sealed record QuoteStatus(Quote Quote, Execution? Execution) : IPaymasterMessage;

    /// <summary>To the pool: the settlement of this quote is recorded; stop re-delivering it.</summary>
    public sealed record SettleAck(ChainId ChainId, QuoteId QuoteId) : IWithChainId, IPaymasterMessage;
}

/// <summary>Events in a dApp's journal (its audit log).</summary>
public static class DappEvents
{
    public interface IDappEvent : IPaymasterMessage
    {
        DappId DappId { get; }
        Meta Meta { get; }
    }

    public sealed record DappRegistered(DappId DappId, string Name, string ApiKeyHash, Bps Surcharge, Meta Meta) : IDappEvent;

    public sealed record FundsDeposited(DappId DappId, TokenAmount Amount, string Reference, Meta Meta) : IDappEvent;

    /// <summary>The quote that is being executed; written together with <see cref="FeeDeducted"/>.</summary>
    public sealed record FeeQuoted(DappId DappId, Quote Quote, Meta Meta) : IDappEvent;

    /// <summary>The quote's maximum fee moves from the balance into a hold; a forwarded quote's hold records the user's signature it relays.</summary>
    public sealed record FeeDeducted(DappId DappId, QuoteId QuoteId, TokenAmount Hold, string IdempotencyKey, string RequestHash, string? ClientReference, Meta Meta,
        string? UserSignature = null)
        : IDappEvent;

    /// <summary>An operator allowed direct calls (from a pool wallet, not forwarded) to a target on a chain.</summary>
    public sealed record DirectCallAllowed(DappId DappId, DirectCallTarget Target, Meta Meta) : IDappEvent;

    /// <summary>An operator withdrew a direct-call allowance.</summary>
    public sealed record DirectCallRevoked(DappId DappId, DirectCallTarget Target, Meta Meta) : IDappEvent;

    public sealed record RelaySubmitted(DappId DappId, QuoteId QuoteId, string TxHash, Address Wallet, BigInteger Nonce, Meta Meta) : IDappEvent;

    /// <summary>Another signed attempt exists for the quote's nonce; the quote's status lists every hash.</summary>
    public sealed record RelayAttemptAdded(DappId DappId, QuoteId QuoteId, string TxHash, string Kind, Meta Meta) : IDappEvent;

    public sealed record FeeReleased(DappId DappId, QuoteId QuoteId, TokenAmount Amount, string Reason, Meta Meta) : IDappEvent;

    public sealed record FeeSettled(DappId DappId, QuoteId QuoteId, SettlementRecord Settlement, Meta Meta) : IDappEvent;

    /// <summary>An operator set the dApp's policy and surcharge (who and why in <see cref="Meta"/>).</summary>
    public sealed record PolicySet(DappId DappId, DappPolicy Policy, Bps Surcharge, Meta Meta) : IDappEvent;

    /// <summary>The dApp set its own per-token limits, within its operator's ceilings.</summary>
    public sealed record OwnLimitsSet(DappId DappId, ImmutableDictionary<FeeToken, TokenLimits> Limits, Meta Meta) : IDappEvent;

    /// <summary>The dApp is frozen: <paramref name="Rule"/> (a fraud rule or <c>operator</c>) and the evidence it saw.</summary>
    public sealed record DappFrozen(DappId DappId, string Rule, string Evidence, Meta Meta) : IDappEvent;

    /// <summary>An operator unfroze the dApp.</summary>
    public sealed record DappUnfrozen(DappId DappId, Meta Meta) : IDappEvent;

    /// <summary>The dApp's API key was replaced; only <paramref name="ApiKeyHash"/> is accepted from now on.</summary>
    public sealed record ApiKeyRotated(DappId DappId, string ApiKeyHash, Meta Meta) : IDappEvent;

    /// <summary>The dApp entered THROTTLED (its quotes answered 429) until <paramref name="Until"/>, and why.</summary>
    public sealed record DappThrottled(DappId DappId, string Reason, DateTimeOffset Until, Meta Meta) : IDappEvent;

    /// <summary>The dApp left THROTTLED.</summary>
    public sealed record DappThrottleLifted(DappId DappId, Meta Meta) : IDappEvent;
}
