using System.Runtime.ExceptionServices;
using Polly.CircuitBreaker;

namespace GrandPaymaster.Chain.Rpc;

/// <summary>How a <see cref="ChainEndpoints"/> judges and spares its endpoints.</summary>
public sealed record ChainEndpointSettings
{
    /// <summary>
    /// Bound of one attempt on one endpoint (and of one chain-id check), on the wall clock, so that a failover
    /// from a silent endpoint happens in under a second.
    /// </summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromMilliseconds(750);

    /// <summary>
    /// An endpoint's breaker opens after this many endpoint failures (timeout, transport, 5xx, malformed answer)
    /// with no success between them within <see cref="FailureWindow"/>. At least 2.
    /// </summary>
    public int FailuresToOpen { get; init; } = 3;

    /// <summary>How long an open breaker keeps its endpoint out before one trial (a chain-id check) is let through. At least 0.5 s.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How old a chain-id check may get before the endpoint is checked again (also: how long a wrong endpoint stays out).</summary>
    public TimeSpan ChainIdRecheck { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The window in which failures are counted towards <see cref="FailuresToOpen"/>. At least 0.5 s.</summary>
    public TimeSpan FailureWindow { get; init; } = TimeSpan.FromSeconds(10);

    internal void Validate()
    {
        var halfSecond = TimeSpan.FromMilliseconds(500);
        if (AttemptTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(AttemptTimeout), AttemptTimeout, "must be positive");
        if (FailuresToOpen < 2) throw new ArgumentOutOfRangeException(nameof(FailuresToOpen), FailuresToOpen, "must be at least 2");
        if (BreakDuration < halfSecond) throw new ArgumentOutOfRangeException(nameof(BreakDuration), BreakDuration, "must be at least 0.5 s");
        if (ChainIdRecheck <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ChainIdRecheck), ChainIdRecheck, "must be positive");
        if (FailureWindow < halfSecond) throw new ArgumentOutOfRangeException(nameof(FailureWindow), FailureWindow, "must be at least 0.5 s");
    }
}

/// <summary>Where an endpoint stands.</summary>
public enum EndpointState
{
    /// <summary>
    /// Not (or no longer) verified: never checked yet, or its break is over, or its wrong-chain hold ran out. Its next
    /// use first checks <c>eth_chainId</c>; it carries a call only if that answers our chain.
    /// </summary>
    Unverified,

    /// <summary>Answers our chain id and its breaker is closed.</summary>
    Healthy,

    /// <summary>Its breaker is open: skipped, with no I/O, until <see cref="ChainEndpointSettings.BreakDuration"/> has passed.</summary>
    Open,

    /// <summary>It answered another chain id (or none): never carries a call until a later check answers ours.</summary>
    WrongChain,
}

/// <summary>
/// One endpoint as an operator sees it: never its URL. <see cref="LatencyMs"/> and <see cref="ErrorRate"/> are
/// exponentially weighted over roughly the last ten attempts.
/// </summary>
public sealed record EndpointHealth(string Label, EndpointState State, double LatencyMs, double ErrorRate, DateTimeOffset? LastFailureAt);

/// <summary>
/// Every RPC endpoint of one chain, used as one: calls go to the healthiest endpoint and fail over to the next on an
/// endpoint failure; each endpoint has its own circuit breaker and is verified to serve <see cref="ChainId"/> before it
/// carries a call. Thread-safe; its memory is fixed by the number of endpoints.
/// </summary>
/// <remarks>
/// Order of use: healthy endpoints by error rate (whole percents), then latency, then configuration order; then
/// unverified ones in configuration order; open and wrong-chain ones are skipped. Breaker, break and re-check timing
/// follow the injected <see cref="TimeProvider"/>; the attempt timeout and the latency figures are wall-clock, because
/// they measure real I/O.
/// </remarks>
public sealed class ChainEndpoints
{
    private static readonly BroadcastOutcome AcceptedAlreadyKnown = new(BroadcastVerdict.Accepted, RefusalKind.None, "accepted: already known");

    private readonly ManagedEndpoint[] _endpoints;
    private readonly TimeProvider _time;
    private int _lastAvailable = 1;

    public ChainEndpoints(long chainId, IReadOnlyList<EthRpcClient> endpoints, ChainEndpointSettings settings, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(time);
        if (endpoints.Count == 0) throw new ArgumentException($"Chain {chainId} needs at least one RPC endpoint.", nameof(endpoints));
        settings.Validate();

        ChainId = chainId;
        _time = time;
        _endpoints = endpoints.Select(client => new ManagedEndpoint(client, chainId, settings, time)).ToArray();
    }

    public long ChainId { get; }

    /// <summary>Some endpoint is neither open nor on the wrong chain.</summary>
    public bool AnyAvailable
    {
        get
        {
            var available = States().Any(s => IsUsable(s.State));
            Notify(available);
            return available;
        }
    }

    /// <summary>Each endpoint's state and figures, in configuration order.</summary>
    public IReadOnlyList<EndpointHealth> Health
    {
        get
        {
            var states = States();
            Notify(states.Any(s => IsUsable(s.State)));
            return states.Select(s => s.Endpoint.HealthWith(s.State)).ToArray();
        }
    }

    /// <summary>
    /// Raised with the new value when <see cref="AnyAvailable"/> is seen to flip: after a call or broadcast, or when
    /// <see cref="AnyAvailable"/> or <see cref="Health"/> is read (a break running out is noticed then, not on a timer).
    /// Runs on the caller's thread; handlers must be quick and must not throw.
    /// </summary>
    public event Action<bool>? AvailabilityChanged;

    /// <summary>
    /// Calls the healthiest available endpoint first; on a transport failure, timeout, 5xx or malformed answer it fails
    /// over to the next one (each attempt bounded by <see cref="ChainEndpointSettings.AttemptTimeout"/>); a JSON-RPC error
    /// object or a revert is an answer, not an endpoint failure, and is thrown to the caller without failover. When no
    /// endpoint is available it throws <see cref="NoEndpointAvailableException"/> immediately (no I/O); when every endpoint
    /// tried failed, the last endpoint failure is thrown.
    /// </summary>
    public async Task<T> CallAsync<T>(Func<EthRpcClient, CancellationToken, Task<T>> call, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            RpcException? lastFailure = null;
            foreach (var endpoint in Candidates())
            {
                ct.ThrowIfCancellationRequested();
                try
                {
                    if (!await endpoint.EnsureRightChainAsync(ct)) continue;
                    return await endpoint.RunAsync("call", call, ct);
                }
                catch (Exception e) when (IsSkippable(e, ct))
                {
                    lastFailure = e as RpcException ?? lastFailure;
                }
            }

            if (lastFailure is not null) ExceptionDispatchInfo.Throw(lastFailure);
            throw new NoEndpointAvailableException(ChainId);
        }
        finally
        {
            Notify(null);
        }
    }

    /// <summary>
    /// Broadcasts a raw transaction with failover and returns the classified outcome over all attempts: Accepted if any
    /// endpoint accepted it (or said "already known"); Refused only if the first attempt that reached a node was a proven
    /// refusal and no earlier attempt could have delivered it (a timed-out attempt may have: then the verdict is Unknown);
    /// NonceTooLow likewise; all endpoints unavailable gives Unknown "unknown: no endpoint available". An answer that is
    /// neither (say <c>-32603</c>) fails over like an outage, since another node may take it. Never throws for RPC failures;
    /// the caller's cancellation still throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<BroadcastOutcome> BroadcastAsync(byte[] rawTransaction, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(rawTransaction);
        try
        {
            BroadcastOutcome? last = null;
            var mayHaveBeenDelivered = false;
            foreach (var endpoint in Candidates())
            {
                ct.ThrowIfCancellationRequested();
                try
                {
                    // A failed chain-id check sent nothing, so it cannot have delivered the transaction.
                    if (!await endpoint.EnsureRightChainAsync(ct)) continue;
                }
                catch (Exception e) when (IsSkippable(e, ct))
                {
                    last = BroadcastClassifier.Classify(e);
                    continue;
                }

                try
                {
                    await endpoint.RunAsync("eth_sendRawTransaction", (client, token) => client.SendRawTransactionAsync(rawTransaction, token), ct);
                    return BroadcastOutcome.Accepted;
                }
                catch (RpcErrorException e)
                {
                    if (BroadcastClassifier.IsAlreadyKnown(e)) return AcceptedAlreadyKnown;
                    var outcome = BroadcastClassifier.Classify(e);
                    if (outcome.Verdict is BroadcastVerdict.Refused or BroadcastVerdict.NonceTooLow)
                        return mayHaveBeenDelivered
                            ? BroadcastOutcome.Unknown($"earlier attempt may have delivered it (then {outcome.Reason})")
                            : outcome;
                    mayHaveBeenDelivered = true;
                    last = outcome;
                }
                catch (Exception e) when (IsSkippable(e, ct))
                {
                    mayHaveBeenDelivered |= BroadcastClassifier.MayHaveBeenDelivered(e);
                    last = BroadcastClassifier.Classify(e);
                }
            }

            return last ?? BroadcastClassifier.Classify(new NoEndpointAvailableException(ChainId));
        }
        finally
        {
            Notify(null);
        }
    }

    private static bool IsUsable(EndpointState state) => state is EndpointState.Healthy or EndpointState.Unverified;

    /// <summary>An endpoint failure (or a breaker that turned open meanwhile): try the next endpoint — unless the caller gave up.</summary>
    private static bool IsSkippable(Exception error, CancellationToken ct) =>
        !ct.IsCancellationRequested && (ManagedEndpoint.IsEndpointFailure(error) || error is BrokenCircuitException);

    private (ManagedEndpoint Endpoint, EndpointState State)[] States()
    {
        var now = _time.GetUtcNow();
        return _endpoints.Select(e => (e, e.StateAt(now))).ToArray();
    }

    private List<ManagedEndpoint> Candidates()
    {
        var states = States();
        var healthy = states.Where(s => s.State == EndpointState.Healthy).Select(s => s.Endpoint)
            .OrderBy(e => e.RankingErrorRate).ThenBy(e => e.LatencyMs);
        var unverified = states.Where(s => s.State == EndpointState.Unverified).Select(s => s.Endpoint);
        return healthy.Concat(unverified).ToList();
    }

    /// <summary>Raises <see cref="AvailabilityChanged"/> when availability differs from what was last seen (computed when not given).</summary>
    private void Notify(bool? available)
    {
        var now = available ?? States().Any(s => IsUsable(s.State));
        var previous = Interlocked.Exchange(ref _lastAvailable, now ? 1 : 0);
        if (previous != (now ? 1 : 0)) AvailabilityChanged?.Invoke(now);
    }
}
