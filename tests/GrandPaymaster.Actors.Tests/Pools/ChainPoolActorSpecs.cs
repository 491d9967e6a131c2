using System.Collections.Concurrent;
using System.Numerics;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Actors.Tests.Fakes;
using GrandPaymaster.Chain.Transactions;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Pools;
using Xunit.Abstractions;
using Address = GrandPaymaster.Domain.Common.Address;

namespace GrandPaymaster.Actors.Tests.Pools;

/// <summary>
/// The pool actor against a scripted chain, a manual clock and a probe in place of the dApp region: only I/O is the
/// actor's, every decision is <see cref="PoolState"/>'s, and these specs check the two are wired right.
/// </summary>
public sealed class ChainPoolActorSpecs : TestKit
{
    private static readonly ChainId Chain = new(31337);
    private static readonly DappId Dapp = DappId.Parse("acme");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly ScriptedChain _chain = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));
    private readonly ConcurrentQueue<PoolModeView> _published = new();
    private readonly DevWalletKeys _keys = new("grand-paymaster-devnet", workersPerChain: 1);
    private readonly Akka.TestKit.TestProbe _dapps;
    private readonly TempJournal _journal;
    private PoolDependencies _deps;

    public ChainPoolActorSpecs(ITestOutputHelper output) : this(new TempJournal(), output)
    {
    }

    private ChainPoolActorSpecs(TempJournal journal, ITestOutputHelper output) : base(journal.Config, output: output)
    {
        _journal = journal;
        _dapps = CreateTestProbe();
        _deps = new PoolDependencies(_ => _chain, _keys, _clock,
            _ => new PoolSettings { Tick = TimeSpan.FromMilliseconds(20), Policy = new PoolPolicy { StuckAfter = TimeSpan.FromSeconds(30) } },
            (_, view) => _published.Enqueue(view));
        _chain.SetNonce(Worker, 5);
    }

    private Address Worker => _keys.WorkersOf(Chain)[0];

    [Fact]
    public async Task A_relay_is_signed_by_the_journaled_worker_broadcast_and_settled_from_the_block_receipts()
    {
        var pool = await StartPoolAsync();
        var quote = QuoteId.New(Dapp);

        pool.Tell(Relay(quote));

        var submitted = _dapps.ExpectMsg<DappCommands.RelaySucceeded>(Wait);
        Assert.Equal(Worker, submitted.Wallet);
        Assert.Equal(5, submitted.Nonce);
        var sent = Assert.Single(_chain.Broadcasts);
        Assert.Equal(Worker, sent.Sender.ToDomain());
        Assert.Equal(30_000_000_000, ((Eip1559Transaction)sent.Transaction).MaxFeePerGas); // the quoted price: room left to speed it up

        _chain.Mine(submitted.TxHash);
        var settle = _dapps.ExpectMsg<DappCommands.SettleFee>(Wait);
        Assert.Equal(submitted.TxHash, settle.TxHash);
        pool.Tell(new DappReplies.SettleAck(Chain, quote));
        await AwaitAssertAsync(async () => Assert.Empty((await StateOf(pool)).Txs), Wait);
    }

    [Fact]
    public async Task An_unknown_broadcast_verdict_is_answered_as_submitted_and_the_transaction_is_still_settled()
    {
        var pool = await StartPoolAsync();
        _chain.NextVerdict(BroadcastVerdict.Unknown, "unknown: timeout");

        pool.Tell(Relay(QuoteId.New(Dapp)));

        var submitted = _dapps.ExpectMsg<DappCommands.RelaySucceeded>(Wait);
        _chain.Mine(submitted.TxHash);
        Assert.Equal(submitted.TxHash, _dapps.ExpectMsg<DappCommands.SettleFee>(Wait).TxHash);
    }

    [Fact]
    public async Task A_broadcast_that_fails_with_an_exception_is_an_unknown_verdict_and_the_transaction_is_still_settled()
    {
        var pool = await StartPoolAsync();
        _chain.BroadcastThrows = true;

        pool.Tell(Relay(QuoteId.New(Dapp)));

        var submitted = _dapps.ExpectMsg<DappCommands.RelaySucceeded>(Wait);
        _chain.Mine(submitted.TxHash);
        Assert.Equal(submitted.TxHash, _dapps.ExpectMsg<DappCommands.SettleFee>(Wait).TxHash);
    }

    [Fact]
    public async Task A_refused_broadcast_releases_the_hold_and_the_next_relay_reuses_its_nonce()
    {
        var pool = await StartPoolAsync();
        _chain.NextVerdict(BroadcastVerdict.Refused, "refused: insufficient funds for gas");

        pool.Tell(Relay(QuoteId.New(Dapp)));
        var failed = _dapps.ExpectMsg<DappCommands.RelayFailed>(Wait);
        pool.Tell(Relay(QuoteId.New(Dapp)));
        var next = _dapps.ExpectMsg<DappCommands.RelaySucceeded>(Wait);

        Assert.Equal("refused: insufficient funds for gas", failed.Reason);
        Assert.Equal(5, next.Nonce);
    }

    [Fact]
    public async Task A_duplicate_relay_while_the_first_broadcast_awaits_its_verdict_gets_one_answer_and_one_transaction()
    {
        var pool = await StartPoolAsync();
        var quote = QuoteId.New(Dapp);
        _chain.Gate = new TaskCompletionSource();

        pool.Tell(Relay(quote));
        await AwaitConditionAsync(() => Task.FromResult(_chain.Broadcasts.Count == 1), Wait);
        pool.Tell(Relay(quote));
        Assert.Single((await StateOf(pool)).Txs);
        _chain.Gate.SetResult();

        var first = _dapps.ExpectMsg<DappCommands.RelaySucceeded>(Wait);
        pool.Tell(Relay(quote));
        var again = _dapps.ExpectMsg<DappCommands.RelaySucceeded>(Wait);
        Assert.Equal(first.TxHash, again.TxHash);
        Assert.Single(_chain.Broadcasts);
    }

    [Fact]
    public async Task A_wallets_broadcasts_reach_the_chain_one_at_a_time_in_nonce_order()
    {
        var pool = await StartPoolAsync();
        _chain.Gate = new TaskCompletionSource();

        for (var i = 0; i < 3; i++) pool.Tell(Relay(QuoteId.New(Dapp)));
        // A mode change answers only after the writes in flight: by then all three broadcasts were asked for.
        await pool.Ask<PoolModeView>(new PoolCommands.SetPoolMode(Chain, PoolMode.Normal, new Meta(_clock.GetUtcNow(), "operator:test", "barrier", "c-2")), Wait);
        Assert.Equal(3, (await StateOf(pool)).Txs.Count);
        await AwaitConditionAsync(() => Task.FromResult(!_chain.Broadcasts.IsEmpty), Wait);

        Assert.Single(_chain.Broadcasts);
        _chain.Gate.SetResult();
        _dapps.ReceiveN(3, Wait);
        Assert.Equal([5, 6, 7], _chain.Broadcasts.Select(b => (int)((Eip1559Transaction)b.Transaction).Nonce));
    }

    [Fact]
    public async Task A_stuck_transaction_is_sped_up_within_its_cap_and_settles_with_the_replacement_receipt()
    {
        var pool = await StartPoolAsync();
        var quote = QuoteId.New(Dapp);
        pool.Tell(Relay(quote));
        var original = _dapps.ExpectMsg<DappCommands.RelaySucceeded>(Wait);

        _clock.Advance(TimeSpan.FromSeconds(31));

        var replaced = _dapps.ExpectMsg<DappCommands.RelayReplaced>(Wait);
        // Broadcast one at a time per wallet: it may reach the chain just after the dApp is told, and after a rebroadcast
        // of the original (the lookup of a transaction pending that long), so it is found by its fee, not its position.
        static IEnumerable<Eip1559Transaction> Replacements(ScriptedChain chain) =>
            chain.Broadcasts.Select(b => b.Transaction).OfType<Eip1559Transaction>().Where(t => t.MaxFeePerGas != 30_000_000_000L);
        await AwaitConditionAsync(() => Task.FromResult(Replacements(_chain).Any()), Wait);
        var speedUp = Replacements(_chain).First();
        Assert.Equal("SpeedUp", replaced.Kind);
        Assert.True(speedUp.MaxFeePerGas * 1_000 >= 30_000_000_000L * 1_125 && speedUp.MaxFeePerGas <= 40_000_000_000);
        Assert.Equal(5, speedUp.Nonce);
        _chain.Mine(replaced.TxHash);
        var settle = _dapps.ExpectMsg<DappCommands.SettleFee>(Wait);
        Assert.Equal(replaced.TxHash, settle.TxHash);
        Assert.NotEqual(original.TxHash, settle.TxHash);
    }

    [Fact]
    public async Task At_a_confirmation_depth_a_receipt_whose_block_left_the_chain_is_watched_again_and_settled_from_its_new_block()
    {
        _deps = _deps with { SettingsFor = _ => new PoolSettings { Tick = TimeSpan.FromMilliseconds(20), ConfirmationDepth = 2 } };
        var pool = await StartPoolAsync();
        pool.Tell(Relay(QuoteId.New(Dapp)));
        var submitted = _dapps.ExpectMsg<DappCommands.RelaySucceeded>(Wait);

        _chain.Mine(submitted.TxHash); // block 101, one deep: not final
        await AwaitConditionAsync(() => Task.FromResult(_chain.ReceiptLookups > 0), Wait);
        _chain.Reorg(100);
        _chain.Mine();
        _chain.Mine();
        _chain.Mine(); // 101', 102', 103': block 101 is deep enough now, but not the one the receipt came from
        _chain.Mine(submitted.TxHash); // 104
        _chain.Mine();
        _chain.Mine();

        var settle = _dapps.ExpectMsg<DappCommands.SettleFee>(Wait);
        Assert.Equal(104, settle.BlockNumber);
    }

    [Fact]
    public async Task With_every_endpoint_down_the_pool_pauses_itself_refuses_relays_and_resumes_after_the_endpoints_answer_again()
    {
        var pool = await StartPoolAsync();
        _chain.Dark = true;
        await AwaitConditionAsync(() => Task.FromResult(_published.LastOrDefault() is { Mode: PoolMode.Paused, Cause: PauseCause.Auto }), Wait);

        pool.Tell(Relay(QuoteId.New(Dapp)));
        Assert.Empty((await StateOf(pool)).Txs);
        Assert.Empty(_chain.Broadcasts);

        _chain.Dark = false;
        await AwaitConditionAsync(async () => (await StateOf(pool)).AnsweringSince is not null, Wait);
        _clock.Advance(new PoolPolicy().ResumeAfter);
        await AwaitConditionAsync(() => Task.FromResult(_published.LastOrDefault() is { Mode: PoolMode.Normal }), Wait);
    }

    [Fact]
    public async Task After_a_restart_the_pool_broadcasts_its_pending_transactions_again_and_settles_them()
    {
        var pool = await StartPoolAsync();
        pool.Tell(Relay(QuoteId.New(Dapp)));
        var submitted = _dapps.ExpectMsg<DappCommands.RelaySucceeded>(Wait);
        await StopAsync(pool);

        var restarted = Sys.ActorOf(ChainPoolActor.PropsFor(Chain, _deps, _dapps.Ref));

        await AwaitConditionAsync(() => Task.FromResult(_chain.Broadcasts.Count >= 2), Wait);
        Assert.Equal(submitted.TxHash, (await StateOf(restarted)).Pending.Single().Original.TxHash);
        _chain.Mine(submitted.TxHash);
        _dapps.FishForMessage(m => m is DappCommands.SettleFee s && s.TxHash == submitted.TxHash, Wait);
    }

    [Fact]
    public async Task A_relay_beyond_the_workers_window_waits_in_the_pool_and_is_signed_as_soon_as_a_transaction_is_settled()
    {
        _deps = _deps with { SettingsFor = _ => new PoolSettings { Tick = TimeSpan.FromMilliseconds(20), Policy = new PoolPolicy { MaxInFlightPerWorker = 1 } } };
        var pool = await StartPoolAsync();
        var (first, second) = (QuoteId.New(Dapp), QuoteId.New(Dapp));

        pool.Tell(Relay(first));
        var submitted = _dapps.ExpectMsg<DappCommands.RelaySucceeded>(Wait);
        pool.Tell(Relay(second));
        _dapps.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // the worker is full: nothing signed, nothing answered
        Assert.Single(_chain.Broadcasts);
        Assert.Equal(1, (await pool.Ask<PoolReplies.PoolSummary>(new PoolCommands.GetPoolSummary(Chain), Wait)).Queued);

        _chain.Mine(submitted.TxHash);

        var answers = new[] { _dapps.ExpectMsg<DappCommands.IDappCommand>(Wait), _dapps.ExpectMsg<DappCommands.IDappCommand>(Wait) };
        Assert.Equal(first, answers.OfType<DappCommands.SettleFee>().Single().QuoteId);
        var next = answers.OfType<DappCommands.RelaySucceeded>().Single();
        Assert.Equal((second, 6), (next.QuoteId, (int)next.Nonce));
        Assert.Equal(2, _chain.Broadcasts.Count);
    }

    private async Task<IActorRef> StartPoolAsync()
    {
        var pool = Sys.ActorOf(ChainPoolActor.PropsFor(Chain, _deps, _dapps.Ref));
        await pool.Ask<PoolReplies.WorkerWalletRegistration>(new PoolCommands.RegisterWorkerWallet(Chain, Worker,
            new Meta(_clock.GetUtcNow(), "operator:test", "test worker", "c-1")), Wait);
        await AwaitConditionAsync(async () => (await StateOf(pool)).Synced.Contains(Worker), Wait);
        return pool;
    }

    private async Task StopAsync(IActorRef actor)
    {
        Watch(actor);
        Sys.Stop(actor);
        await ExpectTerminatedAsync(actor, Wait);
    }

    private static Task<PoolState> StateOf(IActorRef pool) => pool.Ask<PoolState>(new PoolCommands.GetPoolState(Chain), Wait);

    private static PoolCommands.RelayTransaction Relay(QuoteId quote) =>
        new(Chain, quote, Dapp, Address.Parse("0x2222222222222222222222222222222222222222"), "0x", 21_000, new Wei(40_000_000_000), new Wei(30_000_000_000));

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _journal.Dispose();
    }
}
