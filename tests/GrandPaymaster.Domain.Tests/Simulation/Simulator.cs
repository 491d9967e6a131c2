using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Pools;

namespace GrandPaymaster.Domain.Tests.Simulation;

/// <summary>
/// A deterministic simulation of the paymaster's money path: a few dApps (<see cref="DappHost"/>) and one chain pool
/// (<see cref="PoolHost"/>) — the pure states driven the way their actors drive them — against a <see cref="FakeChain"/>
/// and a <see cref="FakeClock"/>, with every choice drawn from one seeded <see cref="Random"/>. Each seed picks its own
/// world (workers, dApps, confirmation depth, how faulty the network, the node and the endpoints are), runs
/// <see cref="SimulationOptions.ActiveSteps"/> steps of traffic and faults (late, duplicated and reordered messages,
/// lying broadcasts, endpoint outages, operator mode changes, base-fee spikes, reorgs, an outsider spending worker
/// nonces, crashes and restarts that rebuild states from their journals), then a quiet period, checking the
/// <see cref="Invariants"/> after every step and at the end. The same seed replays the same run.
/// </summary>
public sealed class Simulator
{
    private static readonly BigInteger Gwei = 1_000_000_000;
    public static readonly Address Target = Address.Parse("0x" + new string('c', 40));

    private readonly int _seed;
    private readonly SimulationOptions _options;
    private readonly Random _random;
    private readonly FakeClock _clock = new();
    private readonly FakeSigner _signer = new();
    private readonly FakeChain _chain;
    private readonly Network _network;
    private readonly PoolHost _pool;
    private readonly SortedDictionary<DappId, DappHost> _dapps = new(Comparer<DappId>.Create((a, b) => string.CompareOrdinal(a.Value, b.Value)));
    private readonly Invariants _invariants;
    private readonly List<(long Due, DappId Dapp, QuoteId Quote, string Key)> _executes = [];
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly RunLog? _log;
    private readonly World _world;
    private long _step;
    private long _endpointsBackAt;

    /// <summary>The seed's world: how big, how deep its finality, and how often each fault strikes.</summary>
    private sealed record World(
        int Workers,
        int Dapps,
        int ConfirmationDepth,
        double Quote,
        double Block,
        double Crash,
        double Outage,
        double Outsider,
        double Reorg,
        double ModeChange,
        NetworkFaults Network,
        BroadcastFaults Broadcast);

    private Simulator(int seed, SimulationOptions options)
    {
        _seed = seed;
        _options = options;
        _random = new Random(seed);
        _log = options.Trace ? new RunLog(() => _step) : null;
        var depth = _random.Next(3);
        _world = new World(
            Workers: 1 + _random.Next(3),
            Dapps: 1 + _random.Next(3),
            ConfirmationDepth: depth,
            Quote: 0.05 + _random.NextDouble() * 0.15,
            Block: 0.2 + _random.NextDouble() * 0.3,
            Crash: _random.NextDouble() * 0.015,
            Outage: _random.NextDouble() * 0.02,
            Outsider: _random.NextDouble() * 0.02,
            Reorg: depth == 0 ? 0 : _random.NextDouble() * 0.03,
            ModeChange: _random.NextDouble() * 0.012,
            Network: new NetworkFaults(_random.NextDouble() * 0.1, 5 + _random.Next(90), _random.NextDouble() * 0.1),
            Broadcast: new BroadcastFaults(_random.NextDouble() * 0.1, _random.NextDouble() * 0.1, _random.NextDouble() * 0.1, _random.NextDouble() * 0.05,
                _random.NextDouble() * 0.1));

        _chain = new FakeChain(_signer, _random, depth, Gwei * _random.Next(5, 40));
        _network = new Network(_random) { Faults = _world.Network };
        var workers = Enumerable.Range(1, _world.Workers).Select(i => Address.Parse($"0x{i:x40}")).ToArray();
        _pool = new PoolHost(workers, _chain, _signer, _clock, _network, _random, () => _step)
        {
            Faults = _world.Broadcast,
            ReleaseOnUnknownVerdict = options.ReleaseOnUnknownVerdict,
        };
        for (var i = 0; i < _world.Dapps; i++)
        {
            var dapp = new DappHost(DappId.Parse($"dapp-{(char)('a' + i)}"), new Bps(2_000 + _random.Next(3_001)), _clock,
                message => _network.Send(_step, new Envelope(null, message)));
            dapp.Deposit(new TokenAmount(FeeToken.Usdt, BigInteger.Pow(10, 6) * _random.Next(100, 2_000)));
            dapp.Deposit(new TokenAmount(FeeToken.Vcn, BigInteger.Pow(10, 18) * _random.Next(10_000, 600_000)));
            _dapps[dapp.Id] = dapp;
        }

        _invariants = new Invariants(_chain, _pool, _dapps);
    }

    /// <summary>Runs one seed to its end or to the first broken invariant.</summary>
    public static SimulationResult Run(int seed, SimulationOptions options) => new Simulator(seed, options).Run();

    /// <summary>How to run exactly this seed again (traced).</summary>
    public static string ReplayHint(int seed, SimulationOptions options) =>
        $"Replay it with: GPM_SIM_SEED={seed} dotnet test tests/GrandPaymaster.Domain.Tests -c Release --filter FullyQualifiedName~{nameof(SimulationTests.Every_seed_keeps_the_books_and_the_chain_in_agreement)}"
        + (options.ReleaseOnUnknownVerdict ? $" (this run used the deliberately broken pool host: {nameof(SimulationOptions.ReleaseOnUnknownVerdict)})" : "");

    private SimulationResult Run()
    {
        try
        {
            for (var i = 0; i < _options.ActiveSteps; i++)
            {
                Step(active: true);
                _invariants.AfterStep();
            }

            BeQuiet();
            for (var i = 0; i < _options.MaxQuietSteps && StillOpen() is not null; i++)
            {
                Step(active: false);
                _invariants.AfterStep();
            }

            _invariants.AtEnd(StillOpen());
            return new SimulationResult(_seed, null, null, Counts());
        }
        catch (Exception e)
        {
            var (invariant, what) = e is InvariantViolation v ? (v.Invariant, $"broke the invariant \"{v.Invariant}\": {v.Detail}") : ("(exception)", $"threw {e}");
            _log?.Write(e.Message);
            var trace = _log is null ? "" : "\nLast steps of the run:\n  " + _log.Tail(300);
            return new SimulationResult(_seed, $"Seed {_seed} {what} (step {_step}, {_world}).\n{ReplayHint(_seed, _options)}{trace}", invariant, Counts());
        }
    }

    private void Step(bool active)
    {
        _step++;
        _clock.Advance(TimeSpan.FromSeconds(1));
        if (active)
        {
            Faults();
            Traffic();
        }

        if (!active || _random.NextDouble() < _world.Block) Mine(active ? _random.Next(1, 7) : 100);
        foreach (var envelope in _network.Deliver(_step))
        {
            if (envelope.To is null) _pool.Receive(envelope.Body);
            else _dapps[DappId.Parse(envelope.To)].Receive((DappCommands.IDappCommand)envelope.Body);
        }

        _pool.Tick();
        foreach (var dapp in _dapps.Values) dapp.Tick();
        _log?.Journals(_pool.Runner.Journal, _dapps.Values);
    }

    // ---------------------------------------------------------------- what happens to the system

    private void Faults()
    {
        if (_pool.EndpointsUp && _random.NextDouble() < _world.Outage)
        {
            _pool.EndpointsUp = false;
            _endpointsBackAt = _step + _random.Next(2, 16);
            Count("outage");
        }
        else if (!_pool.EndpointsUp && _step >= _endpointsBackAt)
        {
            _pool.EndpointsUp = true;
        }

        if (_random.NextDouble() < _world.ModeChange)
        {
            var mode = _random.Next(4) switch { 0 => PoolMode.Paused, 1 => PoolMode.Disabled, _ => PoolMode.Normal };
            _pool.SetMode(mode);
            _log?.Write($"operator sets the pool {mode}");
        }

        if (_random.NextDouble() < _world.Outsider) Outsider();
        if (_random.NextDouble() < _world.Reorg)
        {
            var depth = _random.Next(1, _chain.ConfirmationDepth + 1);
            _chain.Reorg(depth);
            Count("reorg");
            _log?.Write($"reorg of {depth} block(s)");
        }

        if (_random.NextDouble() < _world.Crash) Crash();
    }

    /// <summary>Someone else holding a worker's key sends at its next mined nonce (stealing a slot) or its next pending one.</summary>
    private void Outsider()
    {
        var wallet = _pool.State.Workers[_random.Next(_pool.State.Workers.Count)];
        var nonce = _random.Next(2) == 0 ? _chain.MinedNonce(wallet) : _chain.PendingCount(wallet);
        var held = _chain.Mempool.FirstOrDefault(t => t.Wallet == wallet && t.Nonce == nonce);
        var maxFee = BigInteger.Max(_chain.BaseFee * 3, (held?.MaxFeePerGas ?? 0) * 12 / 10);
        var tip = BigInteger.Max(2 * Gwei, (held?.PriorityFeePerGas ?? 0) * 12 / 10);
        var result = _chain.Submit(_signer.SignOutsider(wallet, nonce, maxFee, tip));
        Count("outsider");
        _log?.Write($"outsider sends {RunLog.W(wallet)}:{nonce}: {result.Verdict}");
    }

    /// <summary>
    /// Mostly the node dies: messages in flight are lost and every entity comes back from its journal, doing what its
    /// actor does on start. Sometimes only the pool or one dApp restarts (a rebalance, a stopped entity).
    /// </summary>
    private void Crash()
    {
        _invariants.AtCrash();
        switch (_random.Next(4))
        {
            case 0:
                _network.LoseTo(null);
                _pool.Restart();
                Count("pool restart");
                _log?.Write("the pool restarts from its journal");
                break;
            case 1:
                var dapp = _dapps.Values.ElementAt(_random.Next(_dapps.Count));
                _network.LoseTo(dapp.Id.Value);
                dapp.Restart();
                Count("dApp restart");
                _log?.Write($"{dapp.Id} restarts from its journal");
                break;
            default:
                _network.LoseAll();
                _executes.Clear();
                _pool.Restart();
                foreach (var each in _dapps.Values) each.Restart();
                Count("crash");
                _log?.Write("crash: every entity restarts from its journal");
                break;
        }
    }

    /// <summary>dApps ask for quotes and execute them (some late, some retried with the same key), and sometimes top up.</summary>
    private void Traffic()
    {
        foreach (var dapp in _dapps.Values)
        {
            if (_random.NextDouble() < _world.Quote)
            {
                var token = _random.Next(2) == 0 ? FeeToken.Usdt : FeeToken.Vcn;
                var quote = dapp.Quote(Request(token), Market(token));
                var delay = _random.NextDouble() < 0.03 ? 65 : _random.Next(4);
                _executes.Add((_step + delay, dapp.Id, quote.Id, $"key-{quote.Id.Value[^6..]}"));
            }

            if (_random.NextDouble() < 0.004)
                dapp.Deposit(new TokenAmount(FeeToken.Usdt, BigInteger.Pow(10, 6) * _random.Next(50, 500)));
        }

        foreach (var execute in _executes.Where(e => e.Due <= _step).ToArray())
        {
            _executes.Remove(execute);
            var outcome = _dapps[execute.Dapp].Execute(execute.Quote, execute.Key, _pool.PublishedMode);
            Count($"execute {outcome}");
            if (_random.NextDouble() < 0.1) _executes.Add(execute with { Due = _step + _random.Next(1, 60) });
        }
    }

    private QuoteRequest Request(FeeToken token) =>
        new(PoolHost.Chain, Address.Parse("0x" + new string('1', 40)), Target, $"0x{_step:x8}", _random.Next(30_000, 300_000), token);

    /// <summary>What a gas oracle would quote (twice the base fee and a tip, give or take half), a buffer of 5–50 % and a fixed rate.</summary>
    private MarketInputs Market(FeeToken token)
    {
        var price = (_chain.BaseFee * 2 + Gwei) * _random.Next(50, 151) / 100;
        var rate = token == FeeToken.Usdt ? new ConversionRate(token, 3_000_000_000) : new ConversionRate(token, BigInteger.Parse("300000000000000000000000"));
        return new MarketInputs(new Wei(price), new Bps(_random.Next(500, 5_001)), rate);
    }

    private void Mine(int capacity)
    {
        var block = _chain.Mine(capacity);
        if (_log is null) return;
        foreach (var (tx, _) in block.Included.Where(i => i.Tx.Kind is not null))
            _log?.Write($"block {block.Number} mines {tx.Kind} {RunLog.Short(tx.Hash)} ({RunLog.W(tx.Wallet)}:{tx.Nonce}, quote {RunLog.Q(tx.QuoteId)})");
    }

    /// <summary>No more faults or traffic: endpoints answer, nodes tell the truth, the operator resumes the pool, the base fee calms down.</summary>
    private void BeQuiet()
    {
        _pool.EndpointsUp = true;
        _pool.Faults = BroadcastFaults.None;
        _network.Faults = NetworkFaults.None;
        _executes.Clear();
        _chain.Calm(Gwei);
        if (_pool.State.Mode.Mode != PoolMode.Normal) _pool.SetMode(PoolMode.Normal);
        _log?.Write("quiet period");
    }

    /// <summary>What is still open or in flight, or null when the run has come to rest.</summary>
    private string? StillOpen()
    {
        var holds = _dapps.Values.SelectMany(d => d.State.Executions.Values).Where(e => e.HoldIsOpen).Select(e => $"{e.Quote.Id} ({e.Status})").ToArray();
        var pool = _pool.State;
        if (holds.Length == 0 && pool.Txs.IsEmpty && pool.GapFills.IsEmpty && _network.InFlight == 0 && !_pool.AwaitingVerdicts) return null;
        return $"open holds [{string.Join(", ", holds)}], pool transactions [{string.Join(", ", pool.Txs.Values.Select(Describe))}], "
               + $"gap fills {pool.GapFills.Count}, messages in flight {_network.InFlight}";
    }

    /// <summary>A pool transaction as the pool and the chain see it.</summary>
    private string Describe(PoolTx tx)
    {
        if (!tx.IsPending) return $"{tx.QuoteId} unacknowledged";
        var held = _chain.Mempool.FirstOrDefault(t => t.Wallet == tx.Wallet && t.Nonce == tx.Nonce);
        return $"{tx.QuoteId} pending at {RunLog.W(tx.Wallet)}:{tx.Nonce} with {tx.Attempts.Count} attempts (chain: mined nonce {_chain.MinedNonce(tx.Wallet)}, "
               + $"mempool slot {(held is null ? "empty" : $"{held.Kind?.ToString() ?? "outsider"} {RunLog.Short(held.Hash)} max fee {held.MaxFeePerGas}")}, base fee {_chain.BaseFee})";
    }

    // ---------------------------------------------------------------- bookkeeping

    private IReadOnlyDictionary<string, int> Counts()
    {
        var counts = new Dictionary<string, int>(_counts, StringComparer.Ordinal);
        foreach (var e in _pool.Runner.Journal) Add(counts, RunLog.Name(e));
        foreach (var e in _dapps.Values.SelectMany(d => d.Journal)) Add(counts, e.GetType().Name);
        return counts;
    }

    private void Count(string what) => Add(_counts, what);

    private static void Add(Dictionary<string, int> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;
}
