using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence;
using GrandPaymaster.Actors.Audit;
using GrandPaymaster.Actors.Persistence;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Transactions;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Pools;
using GrandPaymaster.Domain.Treasury;
using static GrandPaymaster.Domain.Treasury.VaultEvents;
using static GrandPaymaster.Domain.Treasury.VaultProtocol;
using Address = GrandPaymaster.Domain.Common.Address;

namespace GrandPaymaster.Actors.Vault;

/// <summary>Registry key for the vault singleton's proxy (the Orchestrator and the edge reach the vault through it).</summary>
public sealed class VaultSingleton;

/// <summary>How the vault sends its transfers, and its policy (<c>hocon/vault.hocon</c>).</summary>
public sealed record VaultSettings
{
    public VaultPolicy Policy { get; init; } = new();
    public BigInteger TransferGasLimit { get; init; } = 21_000;
    public BigInteger PriorityFee { get; init; } = 1_000_000_000;
    public TimeSpan WatchInterval { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan RebroadcastAfter { get; init; } = TimeSpan.FromSeconds(15);
    public int SnapshotEvery { get; init; } = 500;
}

/// <summary>What the vault needs from its host: its keys (role <c>vault</c> only), each chain, the chain's confirmation depth, a clock.</summary>
public sealed record VaultDependencies(
    IVaultKeys Keys,
    IReadOnlyList<ChainId> Chains,
    Func<ChainId, IVaultChain?> Chain,
    Func<ChainId, int> ConfirmationDepth,
    TimeProvider Clock,
    VaultSettings Settings)
{
    /// <summary>
    /// The pool wallets of the node's key source, by chain (addresses only): registered by the vault itself as soon as it has
    /// recovered, before it takes any request, so an Orchestrator that asks at start never meets <c>not_a_pool_wallet</c>.
    /// </summary>
    public IReadOnlyDictionary<ChainId, IReadOnlyList<Address>> PoolWallets { get; init; } = new Dictionary<ChainId, IReadOnlyList<Address>>();
}

/// <summary>
/// The one persistent vault (cluster singleton on role <c>vault</c>, persistence id <c>vault</c>). It holds the vault wallet of each
/// chain (<see cref="IVaultKeys"/>), tops up registered pool wallets within the limits, and keeps the multi-sig proposals
/// (decisions: <see cref="VaultState"/>). A transfer is signed and its bytes journaled (<see cref="TopUpSigned"/>) before it is
/// broadcast; after that, whatever a node says or a crash interrupts, only the same bytes are broadcast again, until the receipt is
/// final at the chain's confirmation depth (<see cref="VaultEvents.TopUpCompleted"/>). A second transaction is signed for a request
/// only when the chain shows the nonce taken by another one; a refusal before any node accepted it fails the top-up (retryable).
/// The requester (the Orchestrator) is answered <see cref="TopUpSubmitted"/> once signed and <see cref="VaultProtocol.TopUpCompleted"/>
/// at the end; <see cref="GetTopUp"/> answers where a request stands after a failover.
/// </summary>
public sealed class VaultActor : AuditedPersistentActor, IWithTimers
{
    private const int MaxWaitersPerRequest = 16;
    private static readonly TimeSpan RpcTimeout = TimeSpan.FromSeconds(10);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly VaultDependencies _deps;
    private VaultState _state;

    // Transient (an incarnation's own): who waits for an answer, who asked for a top-up (told when it completes), which chain is
    // signing (one at a time per chain: nonces come from the chain and the open transfers), which signed transfers no node has
    // accepted yet in this incarnation (only those may fail on a refusal), when each was last broadcast, which are being looked up.
    private readonly Dictionary<string, List<IActorRef>> _waiters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IActorRef> _requesters = new(StringComparer.Ordinal);
    private readonly HashSet<long> _signing = [];
    private readonly HashSet<string> _unaccepted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _broadcastAt = new(StringComparer.Ordinal);
    private readonly HashSet<string> _checking = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _signFailures = new(StringComparer.Ordinal);

    /// <summary>Attempts (one per tick) to read the nonce and fees before an automatic top-up fails as <c>vault_rpc_down</c>.</summary>
    private const int SignAttempts = 3;

    public VaultActor(VaultDependencies deps)
    {
        _deps = deps;
        _state = VaultState.Empty with { RetainedClosed = deps.Settings.Policy.RetainClosed };
        Recover<SnapshotOffer>(o =>
        {
            if (o.Snapshot is VaultState s) _state = s with { RetainedClosed = Policy.RetainClosed };
        });
        Recover<IVaultEvent>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ => RegisterPoolWallets());

        Command<TopUpRequest>(OnTopUp);
        Command<GetTopUp>(c =>
        {
            if (!_state.TopUps.TryGetValue(c.RequestId, out var topUp))
            {
                Sender.Tell(new TopUpUnknown(c.RequestId));
                return;
            }

            Answer(topUp, VaultState.ReplyFor(topUp), Sender);
        });
        // No command registers a pool wallet: only the vault node's own key source does, at recovery (RegisterPoolWallets), so no
        // other code in the cluster can make the vault pay an address of its choosing.
        Command<ProposeTransfer>(c =>
        {
            var (reply, e) = _state.Decide(c, Now, Policy, Holds(c.ChainId));
            Decided(reply, e);
        });
        Command<ApproveProposal>(c =>
        {
            var (reply, events) = _state.Decide(c, Now);
            if (events.IsEmpty)
            {
                Sender.Tell(reply);
                return;
            }

            var sender = Sender;
            PersistAll(events, Applied, () =>
            {
                sender.Tell(reply);
                PumpAll();
            });
        });
        Command<CancelProposal>(c =>
        {
            var (reply, e) = _state.Decide(c, Now);
            Decided(reply, e);
        });
        Command<SetVaultLimits>(c =>
        {
            var (reply, e) = _state.Decide(c, Now, Policy);
            Decided(reply, e);
        });
        Command<GetProposals>(c => Sender.Tell(new ProposalList(_state.ListProposals(c.Status))));
        Command<GetVault>(_ => Sender.Tell(new VaultView(_deps.Chains
            .Select(chain => _state.View(chain, _deps.Keys.KeyOf(chain)?.Address.ToDomain(), Policy, Now)).ToImmutableList())));

        Command<Tick>(_ => OnTick());
        Command<Signed>(OnSigned);
        Command<SignFailed>(OnSignFailed);
        Command<Broadcasted>(OnBroadcasted);
        Command<Checked>(OnChecked);
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Snapshot of the vault failed; recovery replays more events"));
    }

    public override string PersistenceId => "vault";
    public ITimerScheduler Timers { get; set; } = null!;

    private VaultPolicy Policy => _deps.Settings.Policy;
    private DateTimeOffset Now => _deps.Clock.GetUtcNow();

    public static Props PropsFor(VaultDependencies deps) => Props.Create(() => new VaultActor(deps));

    protected override void PreStart()
    {
        base.PreStart();
        Timers.StartPeriodicTimer("tick", Tick.Instance, _deps.Settings.WatchInterval);
    }

    /// <summary>
    /// Journals the key source's pool wallets not registered yet, in one write; commands that arrive meanwhile wait for it (Persist
    /// stashes them), so a top-up request is never judged against a registry still being filled.
    /// </summary>
    private void RegisterPoolWallets()
    {
        var events = new List<PoolWalletRegistered>();
        var state = _state;
        foreach (var (chainId, wallets) in _deps.PoolWallets)
        foreach (var wallet in wallets)
        {
            var meta = Meta.System("vault", $"pool wallet {wallet} of chain {chainId} from the key source", Now);
            if (state.Decide(new RegisterPoolWallet(chainId, wallet, meta), Now, Policy) is (_, null, PoolWalletRegistered e))
            {
                events.Add(e);
                state = state.Apply(e);
            }
        }

        if (events.Count > 0) PersistAll(events, Applied);
    }

    private bool Holds(ChainId chainId) => _deps.Keys.KeyOf(chainId) is not null && _deps.Chain(chainId) is not null;

    private void OnTopUp(TopUpRequest c)
    {
        var (reply, e) = _state.Decide(c, Now, Policy, Holds(c.ChainId));
        var sender = Sender;
        if (e is null)
        {
            if (_state.TopUps.TryGetValue(c.RequestId, out var known) && known.IsOpen) Answer(known, reply, sender);
            else if (reply is not null) sender.Tell(reply);
            return;
        }

        Persist(e, persisted =>
        {
            Applied(persisted);
            if (persisted is TopUpAccepted accepted)
            {
                Answer(_state.TopUps[accepted.RequestId], null, sender);
                Pump(accepted.ChainId);
            }
            else if (reply is not null) sender.Tell(reply);
        });
    }

    /// <summary>Answers now, or (accepted, not signed yet) once signed; the asker is told again when the top-up completes or fails.</summary>
    private void Answer(VaultTopUp topUp, IPaymasterMessage? reply, IActorRef asker)
    {
        if (asker.IsNobody()) return;
        if (topUp.IsOpen) _requesters[topUp.RequestId] = asker;
        if (reply is not null)
        {
            asker.Tell(reply);
            return;
        }

        if (!_waiters.TryGetValue(topUp.RequestId, out var list)) _waiters[topUp.RequestId] = list = [];
        if (list.Count < MaxWaitersPerRequest && !list.Contains(asker)) list.Add(asker);
    }

    /// <summary>Tells everyone waiting for <paramref name="requestId"/>, and on a final answer the requester too (once).</summary>
    private void Notify(string requestId, IPaymasterMessage reply, bool final)
    {
        var told = new HashSet<IActorRef>();
        if (_waiters.Remove(requestId, out var waiting))
            foreach (var waiter in waiting.Where(told.Add))
                waiter.Tell(reply);
        if (!final) return;
        if (_requesters.Remove(requestId, out var requester) && told.Add(requester)) requester.Tell(reply);
        _unaccepted.Remove(requestId);
        _broadcastAt.Remove(requestId);
    }

    private void Decided<TEvent>(IPaymasterMessage reply, TEvent? e) where TEvent : class, IVaultEvent
    {
        if (e is null)
        {
            Sender.Tell(reply);
            return;
        }

        var sender = Sender;
        Persist(e, persisted =>
        {
            Applied(persisted);
            sender.Tell(reply);
        });
    }

    private void Applied(IVaultEvent e)
    {
        _state = _state.Apply(e);
        _log.Info("Vault: {0} by {1} ({2})", e.GetType().Name, e.Meta.Actor, e.Meta.Reason);
        if (LastSequenceNr % _deps.Settings.SnapshotEvery == 0) SaveSnapshot(_state);
    }

    private void OnTick()
    {
        var now = Now;
        var expired = _state.ExpiredAt(now).Take(100)
            .Select(p => (IVaultEvent)new ProposalExpired(p.Id, Meta.System("vault", $"not approved by {p.ApprovalsRequired} approvers before {p.ExpiresAt:O}", now, p.Id)))
            .ToArray();
        if (expired.Length > 0) PersistAll(expired, Applied);
        PumpAll();
        foreach (var topUp in _state.TopUps.Values.Where(t => t.Status == TopUpStatus.Signed && !_checking.Contains(t.RequestId)).ToArray())
            Check(topUp);
    }

    private void PumpAll()
    {
        foreach (var chain in _state.TopUps.Values.Where(t => t.Status == TopUpStatus.Accepted).Select(t => t.ChainId).Distinct().ToArray())
            Pump(chain);
    }

    /// <summary>Signs the oldest accepted transfer of the chain (one signing at a time per chain), at the next nonce the chain and the open transfers allow.</summary>
    private void Pump(ChainId chainId)
    {
        if (_signing.Contains(chainId.Value)) return;
        var next = _state.OpenTopUps(chainId).FirstOrDefault(t => t.Status == TopUpStatus.Accepted);
        if (next is null) return;
        var key = _deps.Keys.KeyOf(chainId);
        var chain = _deps.Chain(chainId);
        if (key is null || chain is null)
        {
            Self.Tell(new SignFailed(next.RequestId, chainId, $"the vault holds no wallet on chain {chainId}"));
            _signing.Add(chainId.Value);
            return;
        }

        _signing.Add(chainId.Value);
        var localNext = _state.OpenTopUps(chainId).Where(t => t.Status == TopUpStatus.Signed && t.Nonce is not null)
            .Select(t => t.Nonce!.Value + 1).DefaultIfEmpty(BigInteger.Zero).Max();
        SignAsync(next, key, chain, localNext, _deps.Settings).PipeTo(Self,
            failure: ex => new SignFailed(next.RequestId, chainId, $"the chain did not answer for the nonce or fees ({Describe(ex)})"));
    }

    private static async Task<Signed> SignAsync(VaultTopUp topUp, EthKey key, IVaultChain chain, BigInteger localNext, VaultSettings settings)
    {
        using var timeout = new CancellationTokenSource(RpcTimeout);
        var pending = await chain.NonceAsync(key.Address.ToDomain(), null, timeout.Token);
        var (_, baseFee) = await chain.HeadAsync(timeout.Token);
        var nonce = BigInteger.Max(pending, localNext);
        var tip = settings.PriorityFee;
        var maxFee = (baseFee ?? tip) * 2 + tip;
        var tx = new Eip1559Transaction(topUp.ChainId.Value, nonce, tip, maxFee, settings.TransferGasLimit, topUp.To.ToChain(), topUp.Amount.Value, []);
        var signed = tx.Sign(key);
        return new Signed(topUp.RequestId, topUp.ChainId, nonce, signed.TxHashHex, signed.RawHex);
    }

    private void OnSigned(Signed s)
    {
        if (!_state.TopUps.TryGetValue(s.RequestId, out var topUp) || topUp.Status != TopUpStatus.Accepted)
        {
            _signing.Remove(s.ChainId.Value);
            Pump(s.ChainId);
            return;
        }

        var meta = Meta.System("vault", $"transfer of {topUp.Amount} to {topUp.To} on chain {topUp.ChainId} signed at nonce {s.Nonce}", Now, s.RequestId);
        // Journaled before the broadcast: after a crash the same bytes go out again, never a second transaction.
        Persist(new TopUpSigned(s.RequestId, s.Nonce, s.TxHash, s.RawTx, meta), e =>
        {
            Applied(e);
            _signing.Remove(s.ChainId.Value);
            _signFailures.Remove(s.RequestId);
            _unaccepted.Add(s.RequestId);
            Notify(s.RequestId, new TopUpSubmitted(s.RequestId, s.TxHash), final: false);
            Broadcast(_state.TopUps[s.RequestId]);
            Pump(s.ChainId);
        });
    }

    private void OnSignFailed(SignFailed f)
    {
        _signing.Remove(f.ChainId.Value);
        if (!_state.TopUps.TryGetValue(f.RequestId, out var topUp) || topUp.Status != TopUpStatus.Accepted) return;
        var failures = _signFailures[f.RequestId] = _signFailures.GetValueOrDefault(f.RequestId) + 1;
        if (!topUp.Automatic || failures < SignAttempts)
        {
            // A passing hiccup is tried again at the next tick; an approved proposal's transfer is never given up on an outage.
            _log.Warning("Vault: the transfer of {0} is not signed yet ({1}): {2}; trying again", f.RequestId, failures, f.Reason);
            return;
        }

        _signFailures.Remove(f.RequestId);
        Fail(topUp, VaultCodes.VaultRpcDown, $"nothing was signed after {failures} attempts: {f.Reason}", retryable: true);
    }

    private void Fail(VaultTopUp topUp, string code, string reason, bool retryable)
    {
        Persist(new VaultEvents.TopUpFailed(topUp.RequestId, code, reason, retryable, Meta.System("vault", $"{code}: {reason}", Now, topUp.RequestId)), e =>
        {
            Applied(e);
            Notify(topUp.RequestId, new VaultProtocol.TopUpFailed(topUp.RequestId, code, reason, retryable), final: true);
            Pump(topUp.ChainId);
        });
    }

    private void Broadcast(VaultTopUp topUp)
    {
        var chain = _deps.Chain(topUp.ChainId);
        if (chain is null || topUp.RawTx is null || topUp.TxHash is null) return;
        _broadcastAt[topUp.RequestId] = Now;
        var (id, hash) = (topUp.RequestId, topUp.TxHash);
        BroadcastAsync(chain, topUp.RawTx).PipeTo(Self,
            success: r => new Broadcasted(id, hash, r.Verdict, r.Reason),
            failure: ex => new Broadcasted(id, hash, BroadcastVerdict.Unknown, "unknown: " + Describe(ex)));
    }

    private static async Task<(BroadcastVerdict Verdict, string Reason)> BroadcastAsync(IVaultChain chain, string raw)
    {
        using var timeout = new CancellationTokenSource(RpcTimeout);
        return await chain.BroadcastAsync(raw, timeout.Token);
    }

    private void OnBroadcasted(Broadcasted b)
    {
        if (!_state.TopUps.TryGetValue(b.RequestId, out var topUp) || topUp.Status != TopUpStatus.Signed || topUp.TxHash != b.TxHash) return;
        if (b.Verdict != BroadcastVerdict.Refused)
        {
            // Accepted, or perhaps in a mempool: from now on it is only watched and broadcast again, never failed.
            _unaccepted.Remove(b.RequestId);
            if (b.Verdict != BroadcastVerdict.Accepted) _log.Warning("Vault: broadcast of {0} ({1}): {2}; watching it", b.RequestId, b.TxHash, b.Reason);
            return;
        }

        if (_unaccepted.Contains(b.RequestId))
        {
            Fail(topUp, VaultCodes.TransferRefused, $"the node refused {b.TxHash} ({b.Reason}) before any node accepted it; it can never be mined", retryable: true);
            return;
        }

        _log.Warning("Vault: rebroadcast of {0} ({1}) refused ({2}) after it was accepted once; watching it", b.RequestId, b.TxHash, b.Reason);
    }

    private void Check(VaultTopUp topUp)
    {
        var chain = _deps.Chain(topUp.ChainId);
        var key = _deps.Keys.KeyOf(topUp.ChainId);
        if (chain is null || key is null) return;
        _checking.Add(topUp.RequestId);
        var (id, hash) = (topUp.RequestId, topUp.TxHash!);
        // Only the vault signs with its key: its nonce can only be taken by another transfer the vault signed (and journaled).
        var rivals = _state.TopUps.Values.Where(t => t.ChainId == topUp.ChainId && t.Nonce == topUp.Nonce && t.TxHash is { } h && h != hash)
            .Select(t => t.TxHash!).ToArray();
        CheckAsync(topUp, chain, key.Address.ToDomain(), _deps.ConfirmationDepth(topUp.ChainId), rivals).PipeTo(Self,
            failure: _ => new Checked(id, hash, CheckOutcome.Pending, null, false));
    }

    private static async Task<Checked> CheckAsync(VaultTopUp topUp, IVaultChain chain, Address vault, int depth, IReadOnlyList<string> rivals)
    {
        using var timeout = new CancellationTokenSource(RpcTimeout);
        var ct = timeout.Token;
        var hash = topUp.TxHash!;
        var receipt = await chain.ReceiptAsync(hash, ct);
        var (head, _) = await chain.HeadAsync(ct);
        if (receipt is not null)
            return head - receipt.BlockNumber >= depth
                ? new Checked(topUp.RequestId, hash, CheckOutcome.Final, receipt.BlockNumber, receipt.Succeeded)
                : new Checked(topUp.RequestId, hash, CheckOutcome.Pending, receipt.BlockNumber, receipt.Succeeded);

        // Not mined: is its nonce taken, final at the confirmation depth, by another transaction? Then it can never be mined. The
        // proof is a receipt of another transfer the vault signed at that nonce, final: a used nonce with our transaction merely
        // unknown to this endpoint (a lagging or failed-over node) proves nothing, and signing again there could pay twice.
        var final = head - depth;
        if (final >= 0 && await chain.NonceAsync(vault, final, ct) > topUp.Nonce!.Value
                       && await chain.ReceiptAsync(hash, ct) is null && !await chain.IsKnownAsync(hash, ct))
            foreach (var rival in rivals)
                if (await chain.ReceiptAsync(rival, ct) is { } taken && head - taken.BlockNumber >= depth)
                    return new Checked(topUp.RequestId, hash, CheckOutcome.NonceLost, null, false);
        return new Checked(topUp.RequestId, hash, CheckOutcome.NotMined, null, false);
    }

    private void OnChecked(Checked c)
    {
        _checking.Remove(c.RequestId);
        if (!_state.TopUps.TryGetValue(c.RequestId, out var topUp) || topUp.Status != TopUpStatus.Signed || topUp.TxHash != c.TxHash) return;
        switch (c.Outcome)
        {
            case CheckOutcome.Final when c.Succeeded:
                var meta = Meta.System("vault", $"{topUp.Amount} to {topUp.To} mined in block {c.Block} and final", Now, topUp.RequestId);
                Persist(new VaultEvents.TopUpCompleted(topUp.RequestId, c.TxHash, c.Block!.Value, meta), e =>
                {
                    Applied(e);
                    Notify(topUp.RequestId, new VaultProtocol.TopUpCompleted(topUp.RequestId, c.TxHash, topUp.Amount), final: true);
                });
                break;
            case CheckOutcome.Final:
                Fail(topUp, VaultCodes.TransferReverted, $"{c.TxHash} was mined in block {c.Block} but reverted: nothing was transferred", retryable: false);
                break;
            case CheckOutcome.NonceLost:
                var lost = Meta.System("vault", $"nonce {topUp.Nonce} of {c.TxHash} was taken by another transaction; the transfer is signed again", Now,
                    topUp.RequestId);
                Persist(new TopUpNonceLost(topUp.RequestId, c.TxHash, lost), e =>
                {
                    Applied(e);
                    _unaccepted.Remove(topUp.RequestId);
                    _broadcastAt.Remove(topUp.RequestId);
                    Pump(topUp.ChainId);
                });
                break;
            case CheckOutcome.NotMined:
                // Broadcast again (the same bytes) when it was not yet broadcast by this incarnation or not for a while.
                if (!_broadcastAt.TryGetValue(topUp.RequestId, out var at) || Now - at >= _deps.Settings.RebroadcastAfter) Broadcast(topUp);
                break;
        }
    }

    private static string Describe(Exception e) => (e is AggregateException { InnerException: { } inner } ? inner : e) switch
    {
        OperationCanceledException => "timeout",
        // Endpoint URLs can carry provider keys: a message goes out only redacted (events and answers are read by people).
        var other => other.GetType().Name + ": " + GrandPaymaster.Chain.Rpc.RpcRedaction.Redact(other.Message),
    };

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Signed(string RequestId, ChainId ChainId, BigInteger Nonce, string TxHash, string RawTx);

    private sealed record SignFailed(string RequestId, ChainId ChainId, string Reason);

    private sealed record Broadcasted(string RequestId, string TxHash, BroadcastVerdict Verdict, string Reason);

    private enum CheckOutcome
    {
        Pending,
        Final,
        NotMined,
        NonceLost,
    }

    private sealed record Checked(string RequestId, string TxHash, CheckOutcome Outcome, BigInteger? Block, bool Succeeded);
}

/// <summary>Reads <c>hocon/vault.hocon</c> under the operator's overlay (<c>Gpm:Vault:Hocon</c>).</summary>
public static class VaultHocon
{
    public static VaultSettings Load(string overlay) => From(ConfigurationFactory.ParseString(overlay).WithFallback(PersistenceHocon.Load("vault.hocon")));

    public static VaultSettings From(Config root)
    {
        var c = root.GetConfig("gpm.vault");
        var chains = ImmutableDictionary<long, VaultLimits>.Empty;
        if (c.GetValue("chains") is { } value && value.IsObject())
            foreach (var (id, _) in value.GetObject().Items)
            {
                if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var chainId) || chainId <= 0)
                    throw new InvalidOperationException($"gpm.vault.chains: '{id}' is not a chain id.");
                chains = chains.SetItem(chainId, Limits(c, $"chains.\"{id}\""));
            }

        var policy = new VaultPolicy
        {
            DefaultLimits = Limits(c, "defaults"),
            Chains = chains,
            ApprovalsRequired = Positive(c.GetInt("approvals-required"), "approvals-required"),
            ProposalTtl = c.GetTimeSpan("proposal-ttl"),
            MaxOpenProposals = Positive(c.GetInt("max-open-proposals"), "max-open-proposals"),
            MaxOpenTopUps = Positive(c.GetInt("max-open-top-ups"), "max-open-top-ups"),
            RetainClosed = Positive(c.GetInt("retain-closed"), "retain-closed"),
            MaxPoolWalletsPerChain = Positive(c.GetInt("max-pool-wallets-per-chain"), "max-pool-wallets-per-chain"),
        };
        if (policy.ProposalTtl <= TimeSpan.Zero) throw new InvalidOperationException("gpm.vault.proposal-ttl must be positive.");
        return new VaultSettings
        {
            Policy = policy,
            TransferGasLimit = Positive(c.GetInt("transfer-gas-limit"), "transfer-gas-limit"),
            PriorityFee = Wei(c, "priority-fee"),
            WatchInterval = c.GetTimeSpan("watch-interval"),
            RebroadcastAfter = c.GetTimeSpan("rebroadcast-after"),
        };
    }

    private static VaultLimits Limits(Config c, string path) =>
        new(new Wei(Wei(c, $"{path}.daily-limit")), new Wei(Wei(c, $"{path}.auto-limit")));

    private static BigInteger Wei(Config c, string path) =>
        BigInteger.TryParse(c.GetString(path), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidOperationException($"gpm.vault.{path} must be an amount in wei (a decimal string), not '{c.GetString(path)}'.");

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new InvalidOperationException($"gpm.vault.{name} must be positive.");
}

/// <summary>Wires the vault singleton into an actor system.</summary>
public static class VaultHosting
{
    public const string Role = "vault";

    /// <summary>
    /// On a node with role <c>vault</c> (<paramref name="vault"/> given: it carries the keys) the singleton manager and a proxy; on
    /// other nodes (<paramref name="vault"/> null: no keys are ever built there) only the proxy. Either way the proxy is
    /// <c>IRequiredActor&lt;VaultSingleton&gt;</c>.
    /// </summary>
    public static AkkaConfigurationBuilder AddVault(this AkkaConfigurationBuilder builder, VaultDependencies? vault) =>
        vault is null
            ? builder.WithSingletonProxy<VaultSingleton>("vault", new ClusterSingletonOptions { Role = Role })
            : builder.WithSingleton<VaultSingleton>("vault", (_, _, _) => VaultActor.PropsFor(vault), new ClusterSingletonOptions { Role = Role });
}
