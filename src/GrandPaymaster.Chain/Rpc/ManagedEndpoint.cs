using System.Diagnostics;
using Polly;
using Polly.CircuitBreaker;

namespace GrandPaymaster.Chain.Rpc;

/// <summary>
/// One endpoint of a <see cref="ChainEndpoints"/>: its client, its own circuit breaker, its chain-id verification
/// and its health figures. Every mutable field is behind <c>_gate</c>; the breaker is Polly's and thread-safe itself.
/// </summary>
internal sealed class ManagedEndpoint
{
    /// <summary>Weight of the newest sample in the latency and error-rate averages: about the last ten attempts count.</summary>
    private const double Smoothing = 0.2;

    private readonly object _gate = new();
    private readonly long _chainId;
    private readonly ChainEndpointSettings _settings;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _breaker = new();

    private double _latencyMs;
    private bool _hasLatency;
    private double _errorRate;
    private DateTimeOffset? _lastFailureAt;
    private DateTimeOffset _openUntil = DateTimeOffset.MinValue;

    /// <summary>When the right chain id was last seen; null while the endpoint must be (re)verified before it carries a call.</summary>
    private DateTimeOffset? _verifiedAt;

    /// <summary>When the endpoint last answered another chain id (or none); null unless it is known to be on the wrong chain.</summary>
    private DateTimeOffset? _wrongChainAt;

    /// <summary>The chain-id check in flight, shared by every caller that needs it, so a burst of calls costs one <c>eth_chainId</c>.</summary>
    private Task<bool>? _check;

    public ManagedEndpoint(EthRpcClient client, long chainId, ChainEndpointSettings settings, TimeProvider time)
    {
        Client = client;
        _chainId = chainId;
        _settings = settings;
        _time = time;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                // Ratio 1 with a minimum throughput: FailuresToOpen failures and no success within the failure window.
                FailureRatio = 1.0,
                MinimumThroughput = settings.FailuresToOpen,
                SamplingDuration = settings.FailureWindow,
                BreakDuration = settings.BreakDuration,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsEndpointFailure(e)),
                StateProvider = _breaker,
                OnOpened = args =>
                {
                    OnOpened(args.BreakDuration);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    public EthRpcClient Client { get; }

    public string Label => Client.Label;

    /// <summary>
    /// What counts against an endpoint: it did not answer (timeout, transport, 5xx) or answered garbage. A JSON-RPC
    /// error object or a revert is an answer about the request, not about the endpoint.
    /// </summary>
    public static bool IsEndpointFailure(Exception error) =>
        error is RpcTimeoutException or RpcTransportException or RpcMalformedResponseException;

    public EndpointState StateAt(DateTimeOffset now)
    {
        // Read outside our gate: Polly takes its own lock, and we never hold ours while waiting on it.
        var circuit = _breaker.CircuitState;
        lock (_gate)
        {
            if (_wrongChainAt is { } wrong && now - wrong < _settings.ChainIdRecheck) return EndpointState.WrongChain;
            if (circuit is CircuitState.Open or CircuitState.Isolated && now < _openUntil) return EndpointState.Open;
            // Half-open, or the break is over, or never checked, or its wrong-chain hold has run out: the next use verifies it.
            return circuit == CircuitState.Closed && _verifiedAt is not null && _wrongChainAt is null
                ? EndpointState.Healthy
                : EndpointState.Unverified;
        }
    }

    public EndpointHealth HealthWith(EndpointState state)
    {
        lock (_gate) return new EndpointHealth(Label, state, _latencyMs, _errorRate, _lastFailureAt);
    }

    /// <summary>The error rate rounded to whole percents, so that noise in the last decimals does not reorder endpoints.</summary>
    public double RankingErrorRate
    {
        get
        {
            lock (_gate) return Math.Round(_errorRate, 2);
        }
    }

    public double LatencyMs
    {
        get
        {
            lock (_gate) return _latencyMs;
        }
    }

    /// <summary>
    /// True when the endpoint serves our chain, checking <c>eth_chainId</c> first when it was never checked, when its
    /// breaker has opened since (a reconnect) or when the last check is older than <see cref="ChainEndpointSettings.ChainIdRecheck"/>.
    /// False when it is on another chain. Throws the endpoint failure when the check itself failed.
    /// </summary>
    public Task<bool> EnsureRightChainAsync(CancellationToken ct)
    {
        Task<bool> check;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (_wrongChainAt is { } wrong && now - wrong < _settings.ChainIdRecheck) return Task.FromResult(false);
            if (_wrongChainAt is null && _verifiedAt is { } verified && now - verified < _settings.ChainIdRecheck) return Task.FromResult(true);
            if (_check is null || _check.IsCompleted)
            {
                // Not tied to any caller's token: one caller giving up must not fail the check for the others.
                _check = Task.Run(CheckChainIdAsync, CancellationToken.None);
                _check.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            check = _check;
        }

        return check.WaitAsync(ct);
    }

    /// <summary>
    /// Runs one attempt through this endpoint's breaker, bounded by <see cref="ChainEndpointSettings.AttemptTimeout"/>
    /// on the wall clock (it bounds real I/O), and records the outcome in the health figures.
    /// </summary>
    public async Task<T> RunAsync<T>(string method, Func<EthRpcClient, CancellationToken, Task<T>> call, CancellationToken ct)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
        attempt.CancelAfter(_settings.AttemptTimeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var result = await _pipeline.ExecuteAsync(async token =>
            {
                try
                {
                    return await call(Client, token);
                }
                catch (OperationCanceledException) when (attempt.IsCancellationRequested && !ct.IsCancellationRequested)
                {
                    throw new RpcTimeoutException(method, Label, _settings.AttemptTimeout);
                }
            }, attempt.Token);
            RecordAnswer(Stopwatch.GetElapsedTime(started));
            return result;
        }
        catch (RpcErrorException)
        {
            RecordAnswer(Stopwatch.GetElapsedTime(started));
            throw;
        }
        catch (RpcTimeoutException)
        {
            RecordFailure(Stopwatch.GetElapsedTime(started));
            throw;
        }
        catch (Exception e) when (IsEndpointFailure(e))
        {
            RecordFailure(null);
            throw;
        }
    }

    private async Task<bool> CheckChainIdAsync()
    {
        long? id;
        try
        {
            id = await RunAsync("eth_chainId", static (client, token) => client.ChainIdAsync(token), CancellationToken.None);
        }
        catch (RpcErrorException)
        {
            // It answered, but will not say which chain it serves: it cannot be verified, so it must not carry calls.
            id = null;
        }

        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var right = id == _chainId;
            _verifiedAt = right ? now : null;
            _wrongChainAt = right ? null : now;
            return right;
        }
    }

    private void OnOpened(TimeSpan breakDuration)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            _openUntil = breakDuration >= DateTimeOffset.MaxValue - now ? DateTimeOffset.MaxValue : now + breakDuration;
            // What answers after the break may be another node behind the same URL: verify before trusting it again.
            _verifiedAt = null;
        }
    }

    private void RecordAnswer(TimeSpan latency)
    {
        lock (_gate)
        {
            AddLatency(latency);
            _errorRate *= 1 - Smoothing;
        }
    }

    private void RecordFailure(TimeSpan? latency)
    {
        lock (_gate)
        {
            // A timeout says how slow the endpoint is; a refused connection says nothing about speed.
            if (latency is { } l) AddLatency(l);
            _errorRate = _errorRate * (1 - Smoothing) + Smoothing;
            _lastFailureAt = _time.GetUtcNow();
        }
    }

    private void AddLatency(TimeSpan latency)
    {
        var ms = latency.TotalMilliseconds;
        _latencyMs = _hasLatency ? _latencyMs * (1 - Smoothing) + ms * Smoothing : ms;
        _hasLatency = true;
    }
}
