using System.Collections.Immutable;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Fees;
using GrandPaymaster.Domain.Money;
using static GrandPaymaster.Domain.Dapps.DappCommands;
using static GrandPaymaster.Domain.Dapps.DappEvents;
using static GrandPaymaster.Domain.Dapps.DappReplies;

namespace GrandPaymaster.Domain.Dapps;

/// <summary>A registered dApp's identity and pricing.</summary>
public sealed record DappProfile(string Name, string ApiKeyHash, Bps Surcharge, DateTimeOffset RegisteredAt);

/// <summary>A decision: the reply to give and the events to persist first (none for a refusal or a query).</summary>
public sealed record Decision(IPaymasterMessage Reply, IReadOnlyList<IDappEvent> Events)
{
    public static Decision Reject(string code, string message) => new(new Rejected(new Rejection(code, message)), []);
}

/// <summary>How an execute request turned out.</summary>
public enum ExecuteOutcome
{
    /// <summary>Answer now with <see cref="ExecuteDecision.Reply"/>.</summary>
    Answered,

    /// <summary>Persist the events, then relay the transaction; the answer comes with the relay.</summary>
    Deducted,

    /// <summary>The same request is already being relayed: answer when that relay answers.</summary>
    InProgress,
}

public sealed record ExecuteDecision(ExecuteOutcome Outcome, IPaymasterMessage? Reply, IReadOnlyList<IDappEvent> Events);

/// <summary>
/// A dApp's books: profile, per-token ledgers, executed quotes and idempotency keys. Pure: the
/// decision methods never change state; <see cref="Apply"/> folds an event.
/// </summary>
/// <param name="DepositReferences">
/// Every deposit reference with what it credited (one entry per referenced deposit, for the dApp's life), so a retry is told
/// from a reused reference; null for a reference read from a snapshot written before amounts were kept.
/// </param>
public sealed partial record DappState(
    DappId Id,
    DappProfile? Profile,
    ImmutableDictionary<FeeToken, Ledger> Ledgers,
    ImmutableDictionary<QuoteId, Execution> Executions,
    ImmutableDictionary<string, QuoteId> IdempotencyKeys,
    ImmutableList<QuoteId> Closed,
    ImmutableDictionary<string, TokenAmount?> DepositReferences) : IPaymasterMessage
{
    /// <summary>
    /// Settled or released executions kept in memory (for status and idempotent replay) before the
    /// oldest is let go. The journal keeps every one of them; the ledgers are totals and lose nothing.
    /// </summary>
    public const int RetainClosed = 2_000;

    public static DappState Empty(DappId id) => new(id, null, ImmutableDictionary<FeeToken, Ledger>.Empty,
        ImmutableDictionary<QuoteId, Execution>.Empty, ImmutableDictionary<string, QuoteId>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableList<QuoteId>.Empty, ImmutableDictionary<string, TokenAmount?>.Empty.WithComparers(StringComparer.Ordinal));

    public bool IsRegistered => Profile is not null;

    /// <summary>Targets an operator allows this dApp to call straight from a pool wallet; every other call is forwarded (ERC-2771).</summary>
    public ImmutableHashSet<DirectCallTarget> DirectCalls { get; init; } = ImmutableHashSet<DirectCallTarget>.Empty;

    public Ledger LedgerOf(FeeToken token) => Ledgers.GetValueOrDefault(token, Ledger.Empty);

    /// <summary>What the operator allows (null: nothing set yet, everything open at the node's default quote rate).</summary>
    public DappPolicy? Policy { get; init; }

    /// <summary>The dApp's own limits per token, each within its operator's ceiling.</summary>
    public ImmutableDictionary<FeeToken, TokenLimits> OwnLimits { get; init; } = ImmutableDictionary<FeeToken, TokenLimits>.Empty;

    /// <summary>The current UTC day's spending against the caps.</summary>
    public DailySpend Spend { get; init; } = DailySpend.None;

    /// <summary>Set while the dApp is frozen; only an operator clears it.</summary>
    public Freeze? Frozen { get; init; }

    /// <summary>While set and in the future, the edges answer this dApp's quotes <c>429 throttled</c>.</summary>
    public DateTimeOffset? ThrottledUntil { get; init; }

    /// <summary>SHA-256 of an API key, hex. Only the hash is ever stored or sent between actors.</summary>
    public static string HashApiKey(string apiKey) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));

    /// <summary>Null when the hash belongs to this registered dApp; a refusal otherwise (same answer for both cases, to not reveal which dApps exist).</summary>
    public Rejection? Authenticate(string apiKeyHash) =>
        Profile is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Profile.ApiKeyHash), Encoding.ASCII.GetBytes(apiKeyHash))
            ? null
            : new Rejection(RejectionCodes.Unauthorized, "The API key is not valid.");

    public Decision Decide(Register command)
    {
        if (IsRegistered) return Decision.Reject(RejectionCodes.AlreadyRegistered, $"dApp {Id} is already registered.");
        if (!command.Surcharge.IsValidSurcharge)
            return Decision.Reject(RejectionCodes.InvalidRequest, $"Surcharge {command.Surcharge} is outside 20–50%.");
        return new Decision(new Registered(Id), [new DappRegistered(Id, command.Name, command.ApiKeyHash, command.Surcharge, command.Meta)]);
    }

    public Decision Decide(Deposit command)
    {
        if (!IsRegistered) return Decision.Reject(RejectionCodes.DappNotFound, $"dApp {Id} is not registered.");
        if (command.Amount.Units.IsZero) return Decision.Reject(RejectionCodes.InvalidRequest, "A deposit must be positive.");
        // A deposit retried with its reference (after a timeout, say) is credited once; the same reference with another amount or
        // token is a different deposit under a reused reference (a typo, or two wires mixed up): refused, never silently dropped.
        // A reference from before amounts were remembered (null: an older snapshot) answers every retry as credited, as it did then.
        if (command.Reference.Length > 0 && DepositReferences.TryGetValue(command.Reference, out var credited))
            return credited is null || credited == command.Amount
                ? new Decision(new Balances(Id, Ledgers), [])
                : Decision.Reject(RejectionCodes.DepositReferenceConflict,
                    $"Reference '{command.Reference}' already credited {credited.Value}; a deposit of another amount or token needs its own reference.");
        var deposited = new FundsDeposited(Id, command.Amount, command.Reference, command.Meta);
        return new Decision(new Balances(Id, Apply(deposited).Ledgers), [deposited]);
    }

    /// <summary>An operator's change to the direct-call list; allowing a listed target (or revoking an unlisted one) changes nothing.</summary>
    public Decision Decide(SetDirectCall command)
    {
        if (!IsRegistered) return Decision.Reject(RejectionCodes.DappNotFound, $"dApp {Id} is not registered.");
        if (command.Allowed == DirectCalls.Contains(command.Target)) return new Decision(View(), []);
        IDappEvent change = command.Allowed
            ? new DirectCallAllowed(Id, command.Target, command.Meta)
            : new DirectCallRevoked(Id, command.Target, command.Meta);
        return new Decision(Apply(change).View(), [change]);
    }

    /// <summary>
    /// Prices a quote. It is not journaled: a quote moves no money until it is executed. A forwarded quote reserves
    /// <paramref name="userNonce"/> (the caller's pick: the user's lowest forwarder nonce no open quote of this dApp holds)
    /// with a deadline no later than the quote's expiry; a direct call is priced only for a target on the direct-call list.
    /// </summary>
    public IPaymasterMessage PriceQuote(RequestQuote command, QuoteId quoteId, DateTimeOffset now, TimeSpan validFor, BigInteger? userNonce = null)
    {
        if (Authenticate(command.ApiKeyHash) is { } refused) return new Rejected(refused);
        var request = command.Request;
        if (FrozenRefusal() is { } frozen) return new Rejected(frozen);
        if (PolicyRefusal(request) is { } outside) return new Rejected(outside);
        if (command.Forwarding is null && !DirectCalls.Contains(new DirectCallTarget(request.ChainId, request.To)))
            return Rejected(RejectionCodes.DirectCallNotAllowed,
                $"Direct calls to {request.To} on chain {request.ChainId} are not allowed for this dApp; send the call forwarded (signed by the user) or ask an operator to list the target.");

        var breakdown = FeeEngine.Quote(request.GasLimit, command.Market.GasPrice, command.Market.Buffer, Profile!.Surcharge, command.Market.Rate);
        if (CapRefusal(breakdown.MaxFee, command.Forwarding is null ? null : request.Sender, now) is { } capped) return new Rejected(capped);
        var expiresAt = now + validFor;
        var forward = command.Forwarding is { } f
            ? new ForwardTerms(f.Forwarder, userNonce ?? f.ChainNonce, expiresAt.ToUnixTimeSeconds(), f.InnerGas)
            : null;
        return new QuoteIssued(new Quote(quoteId, request, breakdown, now, expiresAt, forward));
    }

    /// <summary>The user's forwarder nonces this dApp's open executions hold on a chain (a new quote of that user must not reuse one).</summary>
    public IEnumerable<BigInteger> HeldUserNonces(ChainId chainId, Address user) =>
        Executions.Values.Where(e => e.HoldIsOpen && e.Quote.Forward is not null && e.Quote.Request.ChainId == chainId && e.Quote.Request.Sender == user)
            .Select(e => e.Quote.Forward!.UserNonce);

    /// <param name="pending">The quote as this entity issued it, if it still holds it in memory.</param>
    /// <param name="pool">The mode of the quote's chain pool as this node sees it; a pool that does not serve refuses before any hold.</param>
    public ExecuteDecision Decide(ExecuteQuote command, Quote? pending, Meta meta, Pools.PoolModeView? pool = null)
    {
        if (Authenticate(command.ApiKeyHash) is { } refused) return Answer(new Rejected(refused));

        if (IdempotencyKeys.TryGetValue(command.IdempotencyKey, out var keyed))
        {
            var earlier = Executions[keyed];
            if (keyed != command.QuoteId || earlier.RequestHash != command.RequestHash)
                return Answer(Rejected(RejectionCodes.IdempotencyConflict,
                    "This Idempotency-Key was used for a different request; use a new key for a new request."));
            return earlier.Status switch
            {
                ExecutionStatus.Released => Answer(Rejected(RejectionCodes.RelayFailed, $"The relay failed: {earlier.Release!.Reason}. The hold was released.")),
                ExecutionStatus.Deducted => new ExecuteDecision(ExecuteOutcome.InProgress, null, []),
                _ => Answer(new ExecutionAccepted(command.QuoteId, earlier.TxHash ?? earlier.Settlement!.TxHash)),
            };
        }

        if (Executions.ContainsKey(command.QuoteId))
            return Answer(Rejected(RejectionCodes.QuoteAlreadyExecuted, $"Quote {command.QuoteId} was already executed with another Idempotency-Key."));
        if (pending is null || pending.Id != command.QuoteId)
            return Answer(Rejected(RejectionCodes.QuoteNotFound, $"Quote {command.QuoteId} does not exist or is no longer held; request a new quote."));
        if (pending.IsExpiredAt(meta.At))
            return Answer(Rejected(RejectionCodes.QuoteExpired, $"Quote {command.QuoteId} expired at {pending.ExpiresAt:O}; request a new quote."));

        if (pool is { Serves: false } && PoolRefusal(pool) is { } closed) return Answer(new Rejected(closed));
        // A change of policy or a freeze applies to a quote issued before it, up to the moment the money would move.
        if (FrozenRefusal() is { } frozen) return Answer(new Rejected(frozen));
        if (PolicyRefusal(pending.Request) is { } outside) return Answer(new Rejected(outside));
        if (pending.Forward is not null && string.IsNullOrEmpty(command.UserSignature))
            return Answer(Rejected(RejectionCodes.InvalidSignature, $"Quote {command.QuoteId} is a forwarded call: execute it with the user's signature of its forwardRequest."));

        var hold = pending.Breakdown.MaxFee;
        if (CapRefusal(hold, pending.Forward is null ? null : pending.Request.Sender, meta.At) is { } capped) return Answer(new Rejected(capped));
        var available = LedgerOf(hold.Token).Available;
        if (available < hold.Units)
            return Answer(Rejected(RejectionCodes.InsufficientBalance,
                $"The quote holds {hold.Units} {hold.Token.Symbol()} base units; the available balance is {available}."));

        return new ExecuteDecision(ExecuteOutcome.Deducted, null,
        [
            new FeeQuoted(Id, pending, meta),
            new FeeDeducted(Id, pending.Id, hold, command.IdempotencyKey, command.RequestHash, command.ClientReference, meta,
                pending.Forward is null ? null : command.UserSignature),
        ]);
    }

    /// <summary>Why a pool that does not serve refuses new work, with the code an edge answers for it.</summary>
    public static Rejection? PoolRefusal(Pools.PoolModeView pool) => pool switch
    {
        { Serves: true } => null,
        { Mode: Pools.PoolMode.Disabled } => new Rejection(RejectionCodes.PoolDisabled, $"Chain {pool.ChainId} is disabled by an operator: {pool.Reason}"),
        { Cause: Pools.PauseCause.Manual } => new Rejection(RejectionCodes.PoolPaused, $"Chain {pool.ChainId} is paused by an operator: {pool.Reason}"),
        _ => new Rejection(RejectionCodes.PoolUnavailable, $"Chain {pool.ChainId} is unavailable right now ({pool.Reason}); retry shortly."),
    };

    /// <summary>Another attempt at the quote's nonce: recorded once, while the hold is open.</summary>
    public Decision Decide(RelayReplaced command, Meta meta)
    {
        if (!Executions.TryGetValue(command.QuoteId, out var execution) || !execution.HoldIsOpen || execution.TxHashes.Contains(command.TxHash))
            return new Decision(new ExecutionAccepted(command.QuoteId, command.TxHash), []);
        return new Decision(new ExecutionAccepted(command.QuoteId, execution.TxHash ?? command.TxHash),
            [new RelayAttemptAdded(Id, command.QuoteId, command.TxHash, command.Kind, meta)]);
    }

    public Decision Decide(RelaySucceeded command, Meta meta)
    {
        if (!Executions.TryGetValue(command.QuoteId, out var execution) || execution.TxHash is not null || execution.Status == ExecutionStatus.Settled)
            return new Decision(Accepted(command.QuoteId, execution), []);
        return new Decision(new ExecutionAccepted(command.QuoteId, command.TxHash),
            [new RelaySubmitted(Id, command.QuoteId, command.TxHash, command.Wallet, command.Nonce, meta)]);
    }

    /// <summary>
    /// The pool gave up on the transaction: refused before the mempool, or dropped after it (its nonce was
    /// mined by another). Either way it will never be mined, so an open hold goes back to the balance.
    /// </summary>
    public Decision Decide(RelayFailed command, Meta meta)
    {
        if (!Executions.TryGetValue(command.QuoteId, out var execution) || !execution.HoldIsOpen)
            return new Decision(Rejected(command.Code, command.Reason), []);
        return new Decision(Rejected(command.Code, $"The relay failed: {command.Reason}. The hold was released."),
            [new FeeReleased(Id, command.QuoteId, execution.Hold, command.Reason, meta)]);
    }

    /// <summary>
    /// Idempotent per quote: a second delivery of the same receipt is acknowledged and changes nothing. Release and
    /// settlement exclude each other: a receipt for a released quote is acknowledged and refused here (the pool's
    /// journal keeps the receipt; the pool releases a hold only when the chain proved its transaction cannot be mined).
    /// </summary>
    public Decision Decide(SettleFee command, Meta meta)
    {
        var ack = new SettleAck(command.ChainId, command.QuoteId);
        if (!Executions.TryGetValue(command.QuoteId, out var execution) || !execution.HoldIsOpen)
            return new Decision(ack, []);

        var hold = execution.Hold;
        var breakdown = execution.Quote.Breakdown;
        var amounts = FeeEngine.Settle(hold, command.GasUsed, command.EffectiveGasPrice, breakdown.Surcharge, breakdown.Rate);
        var record = new SettlementRecord(command.TxHash, command.GasUsed, command.EffectiveGasPrice, command.Succeeded,
            command.BlockNumber, command.ConfirmedAt, meta.At, amounts);
        return new Decision(ack, [new FeeSettled(Id, command.QuoteId, record, meta)]);
    }

    public IPaymasterMessage Query(GetQuoteStatus command, Quote? pending)
    {
        if (Authenticate(command.ApiKeyHash) is { } refused) return new Rejected(refused);
        if (Executions.TryGetValue(command.QuoteId, out var execution)) return new QuoteStatus(execution.Quote, execution);
        return pending is not null && pending.Id == command.QuoteId
            ? new QuoteStatus(pending, null)
            : Rejected(RejectionCodes.QuoteNotFound, $"Quote {command.QuoteId} does not exist or has expired unexecuted.");
    }

    public IPaymasterMessage Query(GetBalances command) =>
        Authenticate(command.ApiKeyHash) is { } refused ? new Rejected(refused) : new Balances(Id, Ledgers);

    public IPaymasterMessage Query(GetDapp _) =>
        Profile is null ? Rejected(RejectionCodes.DappNotFound, $"dApp {Id} is not registered.") : View();

    private DappView View() =>
        new(Id, Profile!.Name, Profile.Surcharge, Profile.RegisteredAt, Ledgers, Executions.Values.Count(e => e.HoldIsOpen),
            DirectCalls.OrderBy(t => t.ChainId.Value).ThenBy(t => t.Target.Value, StringComparer.Ordinal).ToImmutableList(),
            Frozen, ThrottledUntil, Policy?.QuotesPerSecond is > 0 and var rate ? rate : null);

    /// <summary>
    /// Executions whose relay has no outcome yet: no answer, or submitted but neither settled nor released. After a
    /// restart, and while they wait, the pool is asked again; it answers a quote it knows with its one transaction or
    /// with its release, so an answer lost in a crash (a release after the submission, say) is recovered.
    /// </summary>
    public IEnumerable<Execution> AwaitingRelay => Executions.Values.Where(e => e.HoldIsOpen);

    public DappState Apply(IDappEvent @event) => @event switch
    {
        DappRegistered e => this with { Profile = new DappProfile(e.Name, e.ApiKeyHash, e.Surcharge, e.Meta.At) },
        FundsDeposited e => WithLedger(e.Amount.Token, l => l with { Deposited = l.Deposited + e.Amount.Units, Available = l.Available + e.Amount.Units }) with
        {
            DepositReferences = e.Reference.Length > 0 ? DepositReferences.SetItem(e.Reference, e.Amount) : DepositReferences,
        },
        // FeeQuoted and FeeDeducted are one atomic write; the first opens the execution, the second moves the money.
        PolicySet or OwnLimitsSet or DappFrozen or DappUnfrozen or ApiKeyRotated or DappThrottled or DappThrottleLifted => ApplyPolicy(@event),
        FeeQuoted e => this with { Executions = Executions.SetItem(e.Quote.Id, new Execution(e.Quote, TokenAmount.Zero(e.Quote.Breakdown.MaxFee.Token), "", "", null, e.Meta.At)) },
        FeeDeducted e => Deduct(e),
        DirectCallAllowed e => this with { DirectCalls = DirectCalls.Add(e.Target) },
        DirectCallRevoked e => this with { DirectCalls = DirectCalls.Remove(e.Target) },
        RelaySubmitted e => WithExecution(e.QuoteId, x => x with { TxHash = e.TxHash, SubmittedAt = e.Meta.At }),
        RelayAttemptAdded e => WithExecution(e.QuoteId, x => x with { Replacements = (x.Replacements ?? []).Add(e.TxHash) }),
        FeeReleased e => TakeBackSpend(e.QuoteId, BigInteger.Zero)
            .WithLedger(e.Amount.Token, l => l with { Held = l.Held - e.Amount.Units, Available = l.Available + e.Amount.Units })
            .WithExecution(e.QuoteId, x => x with { Release = new HoldRelease(e.Reason, e.Meta.At) })
            .Close(e.QuoteId),
        // A late settlement of a released hold: that execution was closed when it was released.
        FeeSettled e => Executions.TryGetValue(e.QuoteId, out var open) && open.HoldIsOpen
            ? TakeBackSpend(e.QuoteId, e.Settlement.Amounts.Fee.Units).Settle(e).Close(e.QuoteId)
            : Settle(e),
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "Unknown dApp event."),
    };

    private DappState Deduct(FeeDeducted e) =>
        CountSpend(e).WithLedger(e.Hold.Token, l => l with { Available = l.Available - e.Hold.Units, Held = l.Held + e.Hold.Units })
            .WithExecution(e.QuoteId, x => x with
            {
                Hold = e.Hold,
                IdempotencyKey = e.IdempotencyKey,
                RequestHash = e.RequestHash,
                ClientReference = e.ClientReference,
                DeductedAt = e.Meta.At,
                UserSignature = e.UserSignature,
            }) with
            {
                IdempotencyKeys = IdempotencyKeys.SetItem(e.IdempotencyKey, e.QuoteId),
            };

    private DappState Settle(FeeSettled e)
    {
        if (!Executions.TryGetValue(e.QuoteId, out var execution)) return this;
        var amounts = e.Settlement.Amounts;
        var releasedHold = execution.HoldIsOpen ? execution.Hold.Units : 0;
        return WithLedger(execution.Hold.Token, l => l with
            {
                Held = l.Held - releasedHold,
                Available = l.Available + amounts.Refund.Units,
                Settled = l.Settled + amounts.Fee.Units,
                Shortfall = l.Shortfall + amounts.Shortfall.Units,
            })
            .WithExecution(e.QuoteId, x => x with { Settlement = e.Settlement });
    }

    /// <summary>Remembers the order executions closed in and lets the oldest go past <see cref="RetainClosed"/>.</summary>
    private DappState Close(QuoteId quoteId)
    {
        var closed = Closed.Add(quoteId);
        var executions = Executions;
        var keys = IdempotencyKeys;
        while (closed.Count > RetainClosed)
        {
            var oldest = closed[0];
            closed = closed.RemoveAt(0);
            if (executions.TryGetValue(oldest, out var gone)) keys = keys.Remove(gone.IdempotencyKey);
            executions = executions.Remove(oldest);
        }

        return this with { Closed = closed, Executions = executions, IdempotencyKeys = keys };
    }

    private DappState WithLedger(FeeToken token, Func<Ledger, Ledger> change) =>
        this with { Ledgers = Ledgers.SetItem(token, change(LedgerOf(token))) };

    private DappState WithExecution(QuoteId id, Func<Execution, Execution> change) =>
        Executions.TryGetValue(id, out var execution) ? this with { Executions = Executions.SetItem(id, change(execution)) } : this;

    private ExecuteDecision Answer(IPaymasterMessage reply) => new(ExecuteOutcome.Answered, reply, []);

    private static Rejected Rejected(string code, string message) => new(new Rejection(code, message));

    private static IPaymasterMessage Accepted(QuoteId id, Execution? execution) =>
        execution?.TxHash is { } hash ? new ExecutionAccepted(id, hash) : Rejected(RejectionCodes.QuoteNotFound, $"Quote {id} has no execution.");
}
