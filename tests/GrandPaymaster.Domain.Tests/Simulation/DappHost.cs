using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Pools;
using static GrandPaymaster.Domain.Dapps.DappCommands;
using static GrandPaymaster.Domain.Dapps.DappEvents;

namespace GrandPaymaster.Domain.Tests.Simulation;

/// <summary>
/// Plays the dApp actor around a <see cref="DappState"/>: journals each decision's events, keeps unexecuted quotes in
/// memory only, asks the pool to relay once a hold is written, again for holds whose relay has not answered (every
/// <see cref="RelayRetryAfter"/> and after a restart), and acknowledges every settlement delivered to it.
/// </summary>
public sealed class DappHost
{
    /// <summary>How long a hold waits for its relay's answer before the pool is asked again (the actor's setting).</summary>
    public static readonly TimeSpan RelayRetryAfter = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan QuoteValidity = TimeSpan.FromSeconds(60);

    private readonly List<IDappEvent> _journal = [];
    private readonly Dictionary<QuoteId, Quote> _quotes = new();
    private readonly FakeClock _clock;
    private readonly Action<object> _toPool;
    private DateTimeOffset _nextRetry;
    private int _quoteSerial;

    public DappHost(DappId id, Bps surcharge, FakeClock clock, Action<object> toPool)
    {
        _clock = clock;
        _toPool = toPool;
        State = DappState.Empty(id);
        KeyHash = DappState.HashApiKey($"gpm_{id}_key");
        Persist(State.Decide(new Register(id, id.Value, KeyHash, surcharge, Meta("register"))).Events);
        Persist(State.Decide(new SetDirectCall(id, new DirectCallTarget(PoolHost.Chain, Simulator.Target), true, Meta("the simulated target takes direct calls"))).Events);
        _nextRetry = clock.Now + RelayRetryAfter;
    }

    public DappId Id => State.Id;

    public string KeyHash { get; }

    public DappState State { get; private set; }

    public IReadOnlyList<IDappEvent> Journal => _journal;

    /// <summary>Holds released so far (journaled, so a restart keeps the count).</summary>
    public int Releases { get; private set; }

    public void Deposit(TokenAmount amount) =>
        Persist(State.Decide(new Deposit(Id, amount, $"wire-{_journal.Count}", Meta("deposit"))).Events);

    /// <summary>Prices a quote and keeps it in memory until it is executed (or the entity restarts).</summary>
    public Quote Quote(QuoteRequest request, MarketInputs market)
    {
        var id = QuoteId.Parse($"q-{Id}-{++_quoteSerial:x32}");
        var quote = ((DappReplies.QuoteIssued)State.PriceQuote(new RequestQuote(Id, KeyHash, request, market), id, _clock.Now, QuoteValidity)).Quote;
        _quotes[id] = quote;
        return quote;
    }

    /// <summary>An execute request (or its retry with the same key); <paramref name="pool"/> is the pool mode as the edge sees it.</summary>
    public ExecuteOutcome Execute(QuoteId quoteId, string idempotencyKey, PoolModeView pool)
    {
        var pending = _quotes.GetValueOrDefault(quoteId);
        var decision = State.Decide(new ExecuteQuote(Id, KeyHash, quoteId, idempotencyKey, $"body-{quoteId}", null), pending, Meta("execute quote"), pool);
        Persist(decision.Events);
        if (decision.Outcome == ExecuteOutcome.Deducted) _quotes.Remove(quoteId);
        if (decision.Outcome != ExecuteOutcome.Answered) RequestRelay(State.Executions[quoteId].Quote);
        return decision.Outcome;
    }

    /// <summary>A message from the pool, decided on the state the previous one left; settlements are acknowledged after their write.</summary>
    public void Receive(IDappCommand message)
    {
        var meta = Meta(message.GetType().Name);
        var decision = message switch
        {
            RelaySucceeded m => State.Decide(m, meta),
            RelayFailed m => State.Decide(m, meta),
            RelayReplaced m => State.Decide(m, meta),
            SettleFee m => State.Decide(m, meta),
            _ => throw new ArgumentOutOfRangeException(nameof(message), message.GetType().Name, "Not a message from the pool."),
        };
        Persist(decision.Events);
        if (decision.Reply is DappReplies.SettleAck ack) _toPool(ack);
    }

    /// <summary>The actor's periodic timer: holds waiting longer than <see cref="RelayRetryAfter"/> for their relay's answer ask again.</summary>
    public void Tick()
    {
        if (_clock.Now < _nextRetry) return;
        _nextRetry = _clock.Now + RelayRetryAfter;
        foreach (var execution in AwaitingRelay().Where(e => e.DeductedAt < _clock.Now - RelayRetryAfter)) RequestRelay(execution.Quote);
    }

    /// <summary>A crash: the state is rebuilt from the journal, unexecuted quotes are gone, and holds with no relay answer ask again.</summary>
    public void Restart()
    {
        State = Folded();
        _quotes.Clear();
        _nextRetry = _clock.Now + RelayRetryAfter;
        foreach (var execution in AwaitingRelay()) RequestRelay(execution.Quote);
    }

    /// <summary>What the journal alone rebuilds.</summary>
    public DappState Folded() => _journal.Aggregate(DappState.Empty(Id), (s, e) => s.Apply(e));

    /// <summary>In quote order: the state's own order follows string hashes, which differ from one process to the next.</summary>
    private IEnumerable<Execution> AwaitingRelay() => State.AwaitingRelay.OrderBy(e => e.Quote.Id.Value, StringComparer.Ordinal).ToArray();

    /// <summary>
    /// The relay request the actor sends: the cap is the highest price per gas whose fee, surcharge included, the hold
    /// still covers (gasLimit × cap × (1 + s) ≤ gasLimit × gasPrice × (1 + b + s)); the first attempt is priced as quoted.
    /// </summary>
    private void RequestRelay(Quote quote)
    {
        var b = quote.Breakdown;
        var cap = b.GasPrice.Value * (Bps.Denominator + b.Buffer.Value + b.Surcharge.Value) / (Bps.Denominator + b.Surcharge.Value);
        _toPool(new PoolCommands.RelayTransaction(quote.Request.ChainId, quote.Id, Id, quote.Request.To, quote.Request.DataHex, b.GasLimit, new Wei(cap),
            b.GasPrice));
    }

    private void Persist(IEnumerable<IDappEvent> events)
    {
        foreach (var e in events)
        {
            _journal.Add(e);
            State = State.Apply(e);
            if (e is FeeReleased) Releases++;
        }
    }

    private Meta Meta(string reason) => new(_clock.Now, $"dapp:{Id}", reason, $"c-{_journal.Count}");

    /// <summary>The sum of the open holds of a token, from the executions (the ledger keeps its own total).</summary>
    public BigInteger OpenHolds(FeeToken token) =>
        State.Executions.Values.Where(e => e.HoldIsOpen && e.Hold.Token == token).Aggregate(BigInteger.Zero, (sum, e) => sum + e.Hold.Units);
}
