using System.Numerics;
using Akka.Actor;
using Akka.Event;
using GrandPaymaster.Domain.Common;
using Address = GrandPaymaster.Domain.Common.Address;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Treasury;
using static GrandPaymaster.Domain.Treasury.OrchestratorProtocol;

namespace GrandPaymaster.Actors.Treasury;

/// <summary>The pool wallets the treasury watches and how their balances are read (the node: each chain's failover endpoints).</summary>
public interface ITreasuryChains
{
    IReadOnlyList<ChainId> Chains { get; }

    IReadOnlyList<Address> WalletsOf(ChainId chain);

    Task<BigInteger> BalanceAsync(ChainId chain, Address wallet, CancellationToken ct);
}

/// <summary>
/// Reads every pool wallet's balance (the Orchestrator's child, so it runs where the singleton runs): every
/// <c>balance-every</c>, and a chain again shortly after a pool's hint (<see cref="PoolBalanceChanged"/>, debounced by
/// <c>hint-debounce</c>). The RPC runs here, off the persistent actor's message loop; each reading goes to the Orchestrator as
/// <see cref="BalanceObserved"/> with the urgency its thresholds give it. At most one read per chain at a time.
/// </summary>
public sealed class BalanceReader : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<long> _reading = [];
    private readonly HashSet<long> _again = [];
    private readonly TreasurySettings _settings;

    public BalanceReader(ITreasuryChains chains, TreasurySettings settings, TimeProvider clock, IActorRef orchestrator)
    {
        _settings = settings;
        Receive<ReadAll>(_ =>
        {
            foreach (var chain in chains.Chains) Read(chain);
        });
        Receive<PoolBalanceChanged>(hint =>
        {
            if (!Timers.IsTimerActive($"hint-{hint.ChainId.Value}"))
                Timers.StartSingleTimer($"hint-{hint.ChainId.Value}", new ReadChain(hint.ChainId), settings.HintDebounce);
        });
        Receive<ReadChain>(r => Read(r.ChainId));
        Receive<ChainRead>(read =>
        {
            var thresholds = settings.ThresholdsOf(read.ChainId.Value);
            foreach (var (wallet, balance) in read.Balances)
                orchestrator.Tell(new BalanceObserved(read.ChainId, wallet, balance, read.At, thresholds.Classify(balance) ?? RebalancePriority.Normal));
            _reading.Remove(read.ChainId.Value);
            if (_again.Remove(read.ChainId.Value)) Read(read.ChainId);
        });
        return;

        void Read(ChainId chain)
        {
            if (!_reading.Add(chain.Value))
            {
                _again.Add(chain.Value);
                return;
            }

            ReadAsync(chains, chain, clock).PipeTo(Self, failure: _ => new ChainRead(chain, [], clock.GetUtcNow()));
        }
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor(ITreasuryChains chains, TreasurySettings settings, TimeProvider clock, IActorRef orchestrator) =>
        Props.Create(() => new BalanceReader(chains, settings, clock, orchestrator));

    protected override void PreStart()
    {
        Self.Tell(ReadAll.Instance);
        Timers.StartPeriodicTimer("all", ReadAll.Instance, _settings.BalanceEvery);
    }

    protected override void PreRestart(Exception reason, object message)
    {
        _log.Warning(reason, "Balance reader restarts");
        base.PreRestart(reason, message);
    }

    private async Task<ChainRead> ReadAsync(ITreasuryChains chains, ChainId chain, TimeProvider clock)
    {
        var balances = new List<(Address, Wei)>();
        foreach (var wallet in chains.WalletsOf(chain))
        {
            using var timeout = new CancellationTokenSource(ReadTimeout);
            try
            {
                var wei = await chains.BalanceAsync(chain, wallet, timeout.Token);
                if (wei.Sign >= 0) balances.Add((wallet, new Wei(wei)));
            }
            catch (Exception e)
            {
                // The last reading stays in the Orchestrator's book; the endpoints' own health (and its alert) tells why.
                _log.Debug("Balance of {0} on chain {1} not read: {2}", wallet, chain, e.GetType().Name);
            }
        }

        return new ChainRead(chain, balances, clock.GetUtcNow());
    }

    private sealed class ReadAll
    {
        public static readonly ReadAll Instance = new();
    }

    private sealed record ReadChain(ChainId ChainId);

    private sealed record ChainRead(ChainId ChainId, IReadOnlyList<(Address Wallet, Wei Balance)> Balances, DateTimeOffset At);
}
