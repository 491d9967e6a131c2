using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Pools;
using static GrandPaymaster.Domain.Dapps.DappCommands;
using static GrandPaymaster.Domain.Dapps.DappEvents;
using static GrandPaymaster.Domain.Dapps.DappReplies;

namespace GrandPaymaster.Actors.Dapps;

/// <summary>Timings of a dApp entity.</summary>
public sealed record DappSettings
{
    public TimeSpan QuoteValidity { get; init; } = TimeSpan.FromSeconds(60);
    public int SnapshotEvery { get; init; } = 5_000;

    /// <summary>How long a hold may wait for its relay's answer before the dApp asks the pool again.</summary>
    public TimeSpan RelayRetryAfter { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The sharded, persistent entity of one dApp (<c>dapp-{id}</c>): prices quotes (kept in memory
/// only; a quote moves no money), holds the max fee on execute (<see cref="FeeQuoted"/> and
/// <see cref="FeeDeducted"/> in one write), asks its chain's pool to relay, and settles idempotently
/// per quote. Replies go out only after the events they report are in the journal.
/// </summary>
public sealed class DappActor : ReceivePersistentActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _pools;
    private readonly TimeProvider _clock;
    private readonly DappSettings _settings;
    private readonly Dictionary<QuoteId, Quote> _quotes = new();
    private readonly Dictionary<QuoteId, List<IActorRef>> _waiting = new();
    private readonly HashSet<QuoteId> _settling = new();
    private readonly HashSet<QuoteId> _concluding = new();
    private DappState _state;

    public DappActor(DappId id, IActorRef pools, TimeProvider clock, DappSettings settings)
    {
        _pools = pools;
        _clock = clock;
        _settings = settings;
        _state = DappState.Empty(id);
        PersistenceId = PersistenceIdFor(id);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is DappState snapshot) _state = snapshot;
        });
        Recover<IDappEvent>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ =>
        {
            // Holds whose relay never answered (a crash in between): ask again; the pool de-duplicates per quote.
            foreach (var execution in _state.AwaitingRelay) RequestRelay(execution.Quote);
        });

        Command<RequestQuote>(OnRequestQuote);
        Command<ExecuteQuote>(OnExecute);
        Command<RelaySucceeded>(r => Conclude(r.QuoteId, () => _state.Decide(r, SystemMeta("relay submitted", r.QuoteId))));
        Command<RelayFailed>(r => Conclude(r.QuoteId, () => _state.Decide(r, SystemMeta("relay failed", r.QuoteId))));
        Command<SettleFee>(OnSettle);
        Command<Register>(c => PersistThenReply(_state.Decide(c), Sender));
        Command<Deposit>(c => PersistThenReply(_state.Decide(c), Sender));
        Command<GetQuoteStatus>(q => Sender.Tell(_state.Query(q, _quotes.GetValueOrDefault(q.QuoteId))));
        Command<GetBalances>(q => Sender.Tell(_state.Query(q)));
        Command<GetDapp>(q => Sender.Tell(_state.Query(q)));
        Command<PruneQuotes>(_ =>
        {
            PruneExpiredQuotes();
            AskAgainForStuckRelays();
        });
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Snapshot of {0} failed; recovery replays more events", PersistenceId));
    }

    public override string PersistenceId { get; }
    public ITimerScheduler Timers { get; set; } = null!;

    public static string PersistenceIdFor(DappId id) => $"dapp-{id}";

    public static Props PropsFor(DappId id, IActorRef pools, TimeProvider clock, DappSettings settings) =>
        Props.Create(() => new DappActor(id, pools, clock, settings));

    protected override void PreStart()
    {
        base.PreStart();
        Timers.StartPeriodicTimer("prune-quotes", PruneQuotes.Instance, TimeSpan.FromSeconds(30));
    }

    private DateTimeOffset Now => _clock.GetUtcNow();

    private void OnRequestQuote(RequestQuote command)
    {
        var reply = _state.PriceQuote(command, QuoteId.New(_state.Id), Now, _settings.QuoteValidity);
        if (reply is QuoteIssued issued) _quotes[issued.Quote.Id] = issued.Quote;
        Sender.Tell(reply);
    }

    private void OnExecute(ExecuteQuote command)
    {
        var meta = new Meta(Now, $"dapp:{_state.Id}", "execute quote", command.QuoteId.Value);
        var decision = _state.Decide(command, _quotes.GetValueOrDefault(command.QuoteId), meta);
        switch (decision.Outcome)
        {
            case ExecuteOutcome.Answered:
                Sender.Tell(decision.Reply);
                break;
            case ExecuteOutcome.InProgress:
                // Ask again: if the first relay request or its answer was lost this recovers it, and the pool
                // answers a known quote with its one transaction, never a second one.
                Wait(command.QuoteId, Sender);
                RequestRelay(_state.Executions[command.QuoteId].Quote);
                break;
            case ExecuteOutcome.Deducted:
                var sender = Sender;
                var quote = _quotes[command.QuoteId];
                PersistAllThen(decision.Events, () =>
                {
                    _quotes.Remove(command.QuoteId);
                    Wait(command.QuoteId, sender);
                    RequestRelay(quote);
                });
                break;
        }
    }

    private void RequestRelay(Quote quote)
    {
        var breakdown = quote.Breakdown;
        // The highest price per gas whose fee, surcharge included, the hold still covers:
        // gasLimit × maxFee × (1 + s) ≤ gasLimit × gasPrice × (1 + b + s).
        var maxFeePerGas = breakdown.GasPrice.Value * (Bps.Denominator + breakdown.Buffer.Value + breakdown.Surcharge.Value)
                           / (Bps.Denominator + breakdown.Surcharge.Value);
        _pools.Tell(new PoolCommands.RelayTransaction(quote.Request.ChainId, quote.Id, _state.Id, quote.Request.To, quote.Request.DataHex,
            breakdown.GasLimit, new Wei(maxFeePerGas)));
    }

    /// <summary>
    /// Settlements are journaled asynchronously so that, under load, many land in one write (group
    /// commit). A second delivery while the first is still being written is dropped: the pool re-delivers
    /// until it gets the acknowledgement, which goes out only after the write.
    /// </summary>
    private void OnSettle(SettleFee command)
    {
        if (!_settling.Add(command.QuoteId)) return;
        var decision = _state.Decide(command, SystemMeta("settle against receipt", command.QuoteId));
        PersistAllThen(decision.Events, () =>
        {
            _settling.Remove(command.QuoteId);
            _pools.Tell(decision.Reply);
            // An execute still waiting (its relay answer was lost in a crash) learns the hash here.
            Answer(command.QuoteId, new ExecutionAccepted(command.QuoteId, command.TxHash));
        }, groupCommit: true);
    }

    /// <summary>
    /// The pool's answer to a relay, journaled with group commit like settlements (one per quote at a time).
    /// It may be written before or after that quote's settlement: either order applies cleanly.
    /// </summary>
    private void Conclude(QuoteId quoteId, Func<Decision> decide)
    {
        if (!_concluding.Add(quoteId)) return;
        var decision = decide();
        PersistAllThen(decision.Events, () =>
        {
            _concluding.Remove(quoteId);
            Answer(quoteId, decision.Reply);
        }, groupCommit: true);
    }

    private void PersistThenReply(Decision decision, IActorRef replyTo) =>
        PersistAllThen(decision.Events, () => replyTo.Tell(decision.Reply));

    /// <summary>
    /// Persists the events (if any) as one atomic write, applies them, then runs <paramref name="then"/> once.
    /// With <paramref name="groupCommit"/> other commands are served while the write is under way, so
    /// concurrent writes of this entity share a round trip; only decisions that cannot be invalidated by
    /// a not-yet-applied event of another quote may use it (a pending refund only makes the balance look lower).
    /// </summary>
    private void PersistAllThen(IReadOnlyList<IDappEvent> events, Action then, bool groupCommit = false)
    {
        if (events.Count == 0)
        {
            then();
            return;
        }

        var remaining = events.Count;
        void Handler(IDappEvent e)
        {
            _state = _state.Apply(e);
            if (LastSequenceNr % _settings.SnapshotEvery == 0) SaveSnapshot(_state);
            if (--remaining == 0) then();
        }

        if (groupCommit) PersistAllAsync(events, Handler);
        else PersistAll(events, Handler);
    }

    private void Wait(QuoteId quoteId, IActorRef replyTo)
    {
        if (!_waiting.TryGetValue(quoteId, out var list)) _waiting[quoteId] = list = [];
        list.Add(replyTo);
    }

    private void Answer(QuoteId quoteId, IPaymasterMessage reply)
    {
        if (!_waiting.Remove(quoteId, out var list)) return;
        foreach (var replyTo in list) replyTo.Tell(reply);
    }

    private void PruneExpiredQuotes()
    {
        var now = Now;
        foreach (var (id, quote) in _quotes.ToArray())
            if (quote.IsExpiredAt(now - TimeSpan.FromSeconds(5)))
                _quotes.Remove(id);
    }

    /// <summary>
    /// A hold whose relay has had no answer for a while (a lost message, a pool that restarted before
    /// journaling it): ask again. The pool answers a quote it knows with its one transaction.
    /// </summary>
    private void AskAgainForStuckRelays()
    {
        var before = Now - _settings.RelayRetryAfter;
        foreach (var execution in _state.AwaitingRelay.Where(e => e.DeductedAt < before)) RequestRelay(execution.Quote);
    }

    private Meta SystemMeta(string reason, QuoteId quoteId) => Meta.System("pool", reason, Now, quoteId.Value);

    private sealed class PruneQuotes
    {
        public static readonly PruneQuotes Instance = new();
    }
}
