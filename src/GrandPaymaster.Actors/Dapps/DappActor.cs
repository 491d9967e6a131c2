using GrandPaymaster.Actors.Audit;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Compliance;
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

    /// <summary>An idle dApp with no open hold leaves memory (and the remembered entities) after this long.</summary>
    public TimeSpan PassivateAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Commands for one quote waiting while an earlier one for it is written; more are dropped (the pool re-sends).</summary>
    public int MaxQueuedPerQuote { get; init; } = 16;

    /// <summary>Unexecuted quotes kept per dApp, at most; more are refused <c>too_many_open_quotes</c> until some expire.</summary>
    public int MaxOpenQuotes { get; init; } = 2_000;

    /// <summary>Call data held by those quotes, at most (bytes).</summary>
    public long MaxOpenQuoteBytes { get; init; } = 4 * 1024 * 1024;

    public FraudRules Fraud { get; init; } = new();

    /// <summary>Where the entity sends its directory entry after a change of key, freeze or policy (every node's edge; none in tests).</summary>
    public Action<ActorSystem, DirectoryEntry>? PublishDirectory { get; init; }
}

/// <summary>
/// How a sponsored transaction ended, told on this node's event stream once it is journaled (for metrics):
/// <c>settled</c> (mined and succeeded), <c>reverted</c> (mined, the call reverted; still billed) or <c>released</c>.
/// </summary>
public sealed record TransactionOutcome(long ChainId, string Outcome, TimeSpan ExecuteToSettle);

/// <summary>A dApp was frozen (or unfrozen), told on this node's event stream once journaled (for alerts); <paramref name="Meta"/> says who and why.</summary>
public sealed record DappFreezeChanged(DappId DappId, bool Frozen, string? Rule, string? Evidence, Meta Meta);

/// <summary>The modes of the chain pools as this node sees them (replicated; read without a round trip).</summary>
public interface IPoolModes
{
    PoolModeView? Get(ChainId chainId);
}

/// <summary>
/// The sharded, persistent entity of one dApp (<c>dapp-{id}</c>): prices quotes (kept in memory
/// only; a quote moves no money), holds the max fee on execute (<see cref="FeeQuoted"/> and
/// <see cref="FeeDeducted"/> in one write), asks its chain's pool to relay, and settles idempotently
/// per quote. Replies go out only after the events they report are in the journal. The pool's messages
/// for one quote are decided one at a time, each on the state the previous one left (release and
/// settlement exclude each other in <see cref="DappState"/>). A dApp with an open hold never passivates:
/// it is a remembered entity, so after a crash it comes back by itself and relays what it holds.
/// </summary>
public sealed class DappActor : AuditedPersistentActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _pools;
    private readonly TimeProvider _clock;
    private readonly DappSettings _settings;
    private readonly Dictionary<QuoteId, Quote> _quotes = new();

    /// <summary>Forwarder nonces reserved by unexecuted quotes, per chain and user (an index of <see cref="_quotes"/>).</summary>
    private readonly Dictionary<(ChainId, Domain.Common.Address), Dictionary<System.Numerics.BigInteger, DateTimeOffset>> _quotedNonces = new();
    private readonly Dictionary<QuoteId, List<IActorRef>> _waiting = new();
    private readonly Dictionary<QuoteId, Queue<IDappCommand>> _quoteWrites = new();
    private readonly IPoolModes _modes;
    private readonly IDenylist _denylist;
    private readonly FraudWatch _fraud;
    private long _openQuoteBytes;
    private DappState _state;

    public DappActor(DappId id, IActorRef pools, TimeProvider clock, DappSettings settings, IPoolModes modes, IDenylist denylist)
    {
        _pools = pools;
        _modes = modes;
        _denylist = denylist;
        _fraud = new FraudWatch(settings.Fraud);
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
            PublishDirectoryEntry();
            // Holds whose relay never answered (a crash in between): ask again; the pool de-duplicates per quote.
            foreach (var execution in _state.AwaitingRelay) RequestRelay(execution);
            SetReceiveTimeout(PassivateAfter);
        });

        Command<RequestQuote>(OnRequestQuote);
        Command<ExecuteQuote>(OnExecute);
        Command<RelaySucceeded>(r => OneAtATime(r.QuoteId, r));
        Command<RelayFailed>(r => OneAtATime(r.QuoteId, r));
        Command<RelayReplaced>(r => OneAtATime(r.QuoteId, r));
        Command<SettleFee>(s => OneAtATime(s.QuoteId, s));
        Command<Register>(c =>
        {
            var sender = Sender;
            var decision = _state.Decide(c);
            PersistAllThen(decision.Events, () =>
            {
                PublishDirectoryEntry();
                sender.Tell(decision.Reply);
                SetReceiveTimeout(PassivateAfter);
            });
        });
        Command<Deposit>(c => PersistThenReply(_state.Decide(c), Sender));
        Command<SetDirectCall>(c => PersistThenReply(_state.Decide(c), Sender));
        Command<SetPolicy>(c => PersistThenReply(_state.Decide(c), Sender, publish: true));
        Command<SetOwnLimits>(c => PersistThenReply(_state.Decide(c), Sender));
        Command<FreezeDapp>(c => PersistThenReply(_state.Decide(c), Sender, publish: true));
        Command<UnfreezeDapp>(c => PersistThenReply(_state.Decide(c), Sender, publish: true));
        Command<RotateApiKey>(c => PersistThenReply(_state.Decide(c), Sender, publish: true));
        Command<ReportThrottle>(c => PersistThenReply(_state.Decide(c), Sender));
        Command<ReportRefusal>(r =>
        {
            if (_state.IsRegistered && _fraud.Refused(r.Code, Now) is { } finding) FreezeFor(finding);
        });
        Command<GetPolicy>(q => Sender.Tell(_state.Query(q, Now)));
        Command<GetQuoteStatus>(q => Sender.Tell(_state.Query(q, _quotes.GetValueOrDefault(q.QuoteId))));
        Command<GetBalances>(q => Sender.Tell(_state.Query(q)));
        Command<GetDapp>(q => Sender.Tell(_state.Query(q)));
        Command<PruneQuotes>(_ =>
        {
            PruneExpiredQuotes();
            AskAgainForStuckRelays();
        });
        Command<ReceiveTimeout>(_ => PassivateIfIdle());
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Snapshot of {0} failed; recovery replays more events", PersistenceId));
    }

    public override string PersistenceId { get; }
    public ITimerScheduler Timers { get; set; } = null!;

    public const int MaxWaitingPerQuote = 64;

    public const string PersistenceIdPrefix = "dapp-";

    public static string PersistenceIdFor(DappId id) => PersistenceIdPrefix + id;

    public static Props PropsFor(DappId id, IActorRef pools, TimeProvider clock, DappSettings settings, IPoolModes modes, IDenylist denylist) =>
        Props.Create(() => new DappActor(id, pools, clock, settings, modes, denylist));

    protected override void PreStart()
    {
        base.PreStart();
        Timers.StartPeriodicTimer("prune-quotes", PruneQuotes.Instance, TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// Leaves memory only with nothing open: a hold keeps the entity (and its remembered-entity entry) alive, so a
    /// crash cannot leave a deducted hold that nobody relays. An unregistered id (a made-up API key) goes at once.
    /// </summary>
    private void PassivateIfIdle()
    {
        if (_state.Executions.Values.Any(e => e.HoldIsOpen) || _waiting.Count > 0 || _quoteWrites.Count > 0) return;
        Context.Parent.Tell(new Akka.Cluster.Sharding.Passivate(PoisonPill.Instance));
    }

    private DateTimeOffset Now => _clock.GetUtcNow();

    /// <summary>An id nobody registered (a made-up API key) leaves memory after a few seconds, a registered dApp when idle.</summary>
    private TimeSpan PassivateAfter => _state.IsRegistered ? _settings.PassivateAfter : TimeSpan.FromSeconds(5);

    private void OnRequestQuote(RequestQuote command)
    {
        var now = Now;
        if (_state.Authenticate(command.ApiKeyHash) is null && Refusal(command.Request) is { } refused)
        {
            Sender.Tell(new Rejected(refused));
            return;
        }

        var userNonce = command.Forwarding is { } forwarding ? FreeUserNonce(command.Request, forwarding.ChainNonce) : (System.Numerics.BigInteger?)null;
        var reply = _state.PriceQuote(command, QuoteId.New(_state.Id), now, _settings.QuoteValidity, userNonce);
        if (reply is QuoteIssued issued)
        {
            Keep(issued.Quote);
            var breakdown = issued.Quote.Breakdown;
            var mostNativeGas = breakdown.GasLimit * breakdown.GasPrice.Value * (Bps.Denominator + breakdown.Buffer.Value + breakdown.Surcharge.Value) / Bps.Denominator;
            if (_fraud.Quoted(command.Request.Sender, mostNativeGas, now) is { } finding) FreezeFor(finding);
        }

        Sender.Tell(reply);
    }

    /// <summary>
    /// The bound on open quotes, counted and in call-data bytes, so one dApp cannot fill the node's memory with quotes it never
    /// executes. (The denylist is the edge's check at quote time — a quote moves no money — and this entity's before the hold.)
    /// </summary>
    private Rejection? Refusal(QuoteRequest request)
    {
        var bytes = QuoteBytes(request);
        if (_quotes.Count < _settings.MaxOpenQuotes && _openQuoteBytes + bytes <= _settings.MaxOpenQuoteBytes) return null;
        PruneExpiredQuotes();
        if (_quotes.Count < _settings.MaxOpenQuotes && _openQuoteBytes + bytes <= _settings.MaxOpenQuoteBytes) return null;
        return new Rejection(RejectionCodes.TooManyOpenQuotes,
            $"This dApp holds {_quotes.Count} unexecuted quotes ({_openQuoteBytes} bytes of call data; at most {_settings.MaxOpenQuotes} and {_settings.MaxOpenQuoteBytes}); execute or let some expire.",
            (int)Math.Ceiling(_settings.QuoteValidity.TotalSeconds));
    }

    private static long QuoteBytes(QuoteRequest request) => (request.DataHex.Length - 2) / 2;

    /// <summary>A fraud rule fired: the dApp is frozen, with the rule and its evidence in the journal.</summary>
    private void FreezeFor(FraudFinding finding)
    {
        if (_state.Frozen is not null) return;
        _log.Warning("dApp {0} frozen by fraud rule {1}: {2}", _state.Id, finding.Rule, finding.Evidence);
        var meta = Meta.System("fraud-watch", $"fraud rule {finding.Rule}", Now);
        PersistAllThen(_state.Decide(new FreezeDapp(_state.Id, finding.Rule, finding.Evidence, meta)).Events, PublishDirectoryEntry);
    }

    /// <summary>
    /// The user's lowest forwarder nonce from the chain's on that no live quote or open execution of this dApp holds: concurrent
    /// quotes of one user get consecutive nonces, and a nonce whose quote expired unexecuted is handed out again.
    /// </summary>
    private System.Numerics.BigInteger FreeUserNonce(QuoteRequest request, System.Numerics.BigInteger chainNonce)
    {
        var quoted = _quotedNonces.GetValueOrDefault((request.ChainId, request.Sender));
        var held = _state.HeldUserNonces(request.ChainId, request.Sender).ToHashSet();
        var nonce = chainNonce;
        while (quoted?.ContainsKey(nonce) == true || held.Contains(nonce)) nonce++;
        return nonce;
    }

    /// <summary>
    /// A forwarded request can run only after the user's requests at every lower nonce the chain has not consumed yet: each
    /// must be held (executed) or still quoted and live here, or it will never come and this one would wait for nothing.
    /// </summary>
    private System.Numerics.BigInteger? MissingEarlierNonce(Quote quote, System.Numerics.BigInteger chainNonce)
    {
        var key = (quote.Request.ChainId, quote.Request.Sender);
        var quoted = _quotedNonces.GetValueOrDefault(key);
        var held = _state.HeldUserNonces(quote.Request.ChainId, quote.Request.Sender).ToHashSet();
        var now = Now;
        for (var n = chainNonce; n < quote.Forward!.UserNonce; n++)
            if (!held.Contains(n) && !(quoted?.TryGetValue(n, out var expiresAt) == true && expiresAt > now))
                return n;
        return null;
    }

    private void Keep(Quote quote)
    {
        _quotes[quote.Id] = quote;
        _openQuoteBytes += QuoteBytes(quote.Request);
        if (quote.Forward is null) return;
        var key = (quote.Request.ChainId, quote.Request.Sender);
        if (!_quotedNonces.TryGetValue(key, out var nonces)) _quotedNonces[key] = nonces = [];
        nonces[quote.Forward.UserNonce] = quote.ExpiresAt;
    }

    private void Forget(QuoteId id)
    {
        if (!_quotes.Remove(id, out var quote)) return;
        _openQuoteBytes -= QuoteBytes(quote.Request);
        if (quote.Forward is null) return;
        var key = (quote.Request.ChainId, quote.Request.Sender);
        if (_quotedNonces.TryGetValue(key, out var nonces) && nonces.Remove(quote.Forward.UserNonce) && nonces.Count == 0) _quotedNonces.Remove(key);
    }

    private void OnExecute(ExecuteQuote command)
    {
        var meta = new Meta(Now, $"dapp:{_state.Id}", "execute quote", command.QuoteId.Value);
        var pending = _quotes.GetValueOrDefault(command.QuoteId);
        if (pending?.Forward is not null && command.ChainNonce is { } chainNonce && !_state.Executions.ContainsKey(command.QuoteId)
            && _state.Authenticate(command.ApiKeyHash) is null && MissingEarlierNonce(pending, chainNonce) is { } missing)
        {
            Sender.Tell(new Rejected(new Rejection(RejectionCodes.NonceStale,
                $"This request has the user's forwarder nonce {pending.Forward.UserNonce}, but nonce {missing} was neither executed nor is it quoted any more; request a new quote.")));
            return;
        }

        // The denylist as it is now, not as it was at the quote: an entry added while the quote was open still refuses the hold.
        if (pending is not null && !_state.Executions.ContainsKey(command.QuoteId) && _state.Authenticate(command.ApiKeyHash) is null
            && _denylist.Check(_state.Id, pending.Request.Sender, pending.Request.To, meta.At) is { } denied)
        {
            Sender.Tell(new Rejected(denied));
            return;
        }

        var decision = _state.Decide(command, pending, meta, pending is null ? null : _modes.Get(pending.Request.ChainId));
        switch (decision.Outcome)
        {
            case ExecuteOutcome.Answered:
                Sender.Tell(decision.Reply);
                break;
            case ExecuteOutcome.InProgress:
                // Ask again: if the first relay request or its answer was lost this recovers it, and the pool
                // answers a known quote with its one transaction, never a second one.
                Wait(command.QuoteId, Sender);
                RequestRelay(_state.Executions[command.QuoteId]);
                break;
            case ExecuteOutcome.Deducted:
                var sender = Sender;
                _fraud.Executed(meta.At);
                PersistAllThen(decision.Events, () =>
                {
                    Forget(command.QuoteId);
                    Wait(command.QuoteId, sender);
                    RequestRelay(_state.Executions[command.QuoteId], command.Simulated);
                });
                break;
        }
    }

    /// <summary>
    /// Asks the quote's pool to relay it: a direct call as quoted, a forwarded one as <c>forwarder.execute(request)</c> with
    /// the user's signature. <paramref name="simulated"/>: the edge has just simulated it (only true for the first request).
    /// </summary>
    private void RequestRelay(Execution execution, bool simulated = false)
    {
        var quote = execution.Quote;
        if (quote.Forward is not null && execution.UserSignature is null)
        {
            // Never relayed from the pool wallet's own identity instead: that is what forwarding exists to prevent.
            _log.Error("dApp {0}: forwarded quote {1} has no user signature; not relayed", _state.Id, quote.Id);
            return;
        }

        var breakdown = quote.Breakdown;
        // The highest price per gas whose fee, surcharge included, the hold still covers:
        // gasLimit × maxFee × (1 + s) ≤ gasLimit × gasPrice × (1 + b + s).
        var maxFeePerGas = breakdown.GasPrice.Value * (Bps.Denominator + breakdown.Buffer.Value + breakdown.Surcharge.Value)
                           / (Bps.Denominator + breakdown.Surcharge.Value);
        var (to, data, forward) = quote.Forward is { } terms && execution.UserSignature is { } signature
            ? (terms.Forwarder, ForwardedCalls.ExecuteCalldata(quote, signature),
                new ForwardedCall(terms.Forwarder, quote.Request.Sender, terms.UserNonce, terms.Deadline, simulated))
            : (quote.Request.To, quote.Request.DataHex, null);
        _pools.Tell(new PoolCommands.RelayTransaction(quote.Request.ChainId, quote.Id, _state.Id, to, data, breakdown.GasLimit, new Wei(maxFeePerGas),
            breakdown.GasPrice, forward));
    }

    /// <summary>
    /// The pool's messages about one quote (relay answers, replacements, settlements) are decided one at a time:
    /// while one is being written, later ones for that quote wait and are then decided on the state it left.
    /// Writes of different quotes share round trips (group commit). A settlement's acknowledgement goes out only
    /// after its write; a duplicate delivery is decided as a no-op and acknowledged again.
    /// </summary>
    private void OneAtATime(QuoteId quoteId, IDappCommand command)
    {
        if (_quoteWrites.TryGetValue(quoteId, out var queue))
        {
            if (queue.Count < _settings.MaxQueuedPerQuote) queue.Enqueue(command);
            return;
        }

        _quoteWrites[quoteId] = new Queue<IDappCommand>();
        Decide(quoteId, command);
    }

    private void Decide(QuoteId quoteId, IDappCommand command)
    {
        var (decision, after) = command switch
        {
            RelaySucceeded r => (_state.Decide(r, SystemMeta("relay submitted", quoteId)), (Action<Decision>)(d => Answer(quoteId, d.Reply))),
            RelayFailed r => (_state.Decide(r, SystemMeta("relay failed", quoteId)), d =>
            {
                Tell(d, quoteId, "released");
                Answer(quoteId, d.Reply);
            }),
            RelayReplaced r => (_state.Decide(r, SystemMeta($"relay replaced ({r.Kind})", quoteId)), _ => { }),
            SettleFee s => (_state.Decide(s, SystemMeta("settle against receipt", quoteId)), d =>
            {
                Tell(d, quoteId, s.Succeeded ? "settled" : "reverted");
                _pools.Tell(d.Reply);
                // An execute still waiting (its relay answer was lost in a crash) learns the hash here.
                Answer(quoteId, new ExecutionAccepted(quoteId, s.TxHash));
            }),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Not a quote command."),
        };
        if (command is SettleFee && decision.Events.Count == 0 && _state.Executions.TryGetValue(quoteId, out var closed) && closed.Release is not null)
            _log.Warning("dApp {0}: a receipt for released quote {1} was refused (the pool journal keeps it)", _state.Id, quoteId);

        PersistAllThen(decision.Events, () =>
        {
            after(decision);
            NextForQuote(quoteId);
        }, groupCommit: true);
    }

    /// <summary>Tells this node's metrics how a transaction ended, once the decision that ended it is journaled.</summary>
    private void Tell(Decision decision, QuoteId quoteId, string outcome)
    {
        if (decision.Events.Count == 0 || !_state.Executions.TryGetValue(quoteId, out var execution)) return;
        Context.System.EventStream.Publish(new TransactionOutcome(execution.Quote.Request.ChainId.Value, outcome, Now - execution.DeductedAt));
    }

    private void NextForQuote(QuoteId quoteId)
    {
        var queue = _quoteWrites[quoteId];
        if (queue.Count == 0) _quoteWrites.Remove(quoteId);
        else Decide(quoteId, queue.Dequeue());
    }

    private void PersistThenReply(Decision decision, IActorRef replyTo, bool publish = false) =>
        PersistAllThen(decision.Events, () =>
        {
            if (publish && decision.Events.Count > 0) PublishDirectoryEntry();
            replyTo.Tell(decision.Reply);
        });

    /// <summary>This dApp as every edge's directory should know it, versioned by the last journaled event.</summary>
    private void PublishDirectoryEntry()
    {
        if (_state.Profile is not { } profile || _settings.PublishDirectory is not { } publish) return;
        publish(Context.System, new DirectoryEntry(_state.Id, profile.ApiKeyHash, _state.Frozen is not null,
            _state.Policy?.QuotesPerSecond is > 0 and var rate ? rate : null, LastSequenceNr));
    }

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
            if (e is DappFrozen or DappUnfrozen) Context.System.EventStream.Publish(e is DappFrozen f
                ? new DappFreezeChanged(f.DappId, true, f.Rule, f.Evidence, f.Meta) : new DappFreezeChanged(_state.Id, false, null, null, ((DappUnfrozen)e).Meta));
            if (--remaining == 0) then();
        }

        if (groupCommit) PersistAllAsync(events, Handler);
        else PersistAll(events, Handler);
    }

    /// <summary>
    /// Callers waiting for a quote's relay answer, at most <see cref="MaxWaitingPerQuote"/>: a client retrying an execute
    /// while the pool cannot answer (paused, syncing) cannot grow the list; the oldest waiter's own timeout answers it.
    /// </summary>
    private void Wait(QuoteId quoteId, IActorRef replyTo)
    {
        if (!_waiting.TryGetValue(quoteId, out var list)) _waiting[quoteId] = list = [];
        if (list.Count >= MaxWaitingPerQuote) list.RemoveAt(0);
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
                Forget(id);
    }

    /// <summary>
    /// A hold whose relay has had no answer for a while (a lost message, a pool that restarted before
    /// journaling it): ask again. The pool answers a quote it knows with its one transaction.
    /// </summary>
    private void AskAgainForStuckRelays()
    {
        var before = Now - _settings.RelayRetryAfter;
        foreach (var execution in _state.AwaitingRelay.Where(e => e.DeductedAt < before)) RequestRelay(execution);
    }

    /// <summary>A rejected write would leave a quote's queue waiting for ever: restart and recover from the journal instead.</summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        base.OnPersistRejected(cause, @event, sequenceNr);
        throw new InvalidOperationException($"dApp {_state.Id}: the journal rejected event {sequenceNr}; restarting from the journal.", cause);
    }

    private Meta SystemMeta(string reason, QuoteId quoteId) => Meta.System("pool", reason, Now, quoteId.Value);

    private sealed class PruneQuotes : INotInfluenceReceiveTimeout
    {
        public static readonly PruneQuotes Instance = new();
    }
}
