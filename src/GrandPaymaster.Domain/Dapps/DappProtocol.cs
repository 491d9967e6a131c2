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
        ImmutableList<DirectCallTarget>? DirectCalls = null)
        : IPaymasterMessage;

    public sealed record QuoteIssued(Quote Quote) : IPaymasterMessage;

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
}
