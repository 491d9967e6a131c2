using System.Numerics;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using GrandPaymaster.Actors.Dapps;
using GrandPaymaster.Actors.Tests.Fakes;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Compliance;
using System.Collections.Immutable;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Pools;
using Xunit.Abstractions;
using Address = GrandPaymaster.Domain.Common.Address;
using static GrandPaymaster.Domain.Dapps.DappCommands;
using static GrandPaymaster.Domain.Dapps.DappReplies;

namespace GrandPaymaster.Actors.Tests.Dapps;

/// <summary>The dApp actor with a probe for the pool region, a manual clock and scripted pool modes.</summary>
public sealed class DappActorSpecs : TestKit
{
    private static readonly ChainId Chain = new(31337);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private const string KeyHash = "key-hash";

    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));
    private readonly Modes _modes = new();
    private readonly Akka.TestKit.TestProbe _pools;
    private readonly TempJournal _journal;
    private readonly DappId _dapp = DappId.New();

    public DappActorSpecs(ITestOutputHelper output) : this(new TempJournal(), output)
    {
    }

    private DappActorSpecs(TempJournal journal, ITestOutputHelper output) : base(journal.Config, output: output)
    {
        _journal = journal;
        _pools = CreateTestProbe();
    }

    [Fact]
    public async Task An_execute_on_a_chain_whose_pool_paused_itself_is_refused_before_any_hold()
    {
        var dapp = await RegisteredAndFundedAsync();
        var quote = await QuoteAsync(dapp);
        _modes.Current = new PoolModeView(Chain, PoolMode.Paused, PauseCause.Auto, "every RPC endpoint is down", _clock.GetUtcNow());

        var answer = await dapp.Ask<Rejected>(Execute(quote, "k-1"), Wait);

        Assert.Equal(RejectionCodes.PoolUnavailable, answer.Rejection.Code);
        var ledger = (await dapp.Ask<Balances>(new GetBalances(_dapp, KeyHash), Wait)).Ledgers[FeeToken.Usdt];
        Assert.Equal(0, ledger.Held);
        Assert.Equal(ledger.Deposited, ledger.Available);
    }

    [Fact]
    public async Task A_wallet_denylisted_while_its_quote_is_open_gets_no_hold()
    {
        var dapp = await RegisteredAndFundedAsync();
        var quote = await QuoteAsync(dapp);
        var wallet = "0x" + new string('1', 40);
        _denylist.SetReplica(ImmutableDictionary<string, DenylistEntry>.Empty.Add(DenylistEntry.KeyOf(DenylistKind.Wallet, wallet),
            new DenylistEntry(DenylistKind.Wallet, wallet, "sanctions", "operator:test", _clock.GetUtcNow(), null)));

        var answer = await dapp.Ask<Rejected>(Execute(quote, "k-1"), Wait);

        Assert.Equal(RejectionCodes.Denylisted, answer.Rejection.Code);
        Assert.Equal(0, (await dapp.Ask<Balances>(new GetBalances(_dapp, KeyHash), Wait)).Ledgers[FeeToken.Usdt].Held);
        _pools.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task Open_quotes_beyond_the_count_or_byte_bound_are_refused_until_some_expire()
    {
        var dapp = await RegisteredAndFundedAsync(new DappSettings { MaxOpenQuotes = 3, MaxOpenQuoteBytes = 100 });
        for (var i = 0; i < 3; i++) await QuoteAsync(dapp);
        var request = new QuoteRequest(Chain, Address.Parse("0x" + new string('1', 40)), Address.Parse("0x" + new string('2', 40)), "0x", 21_000, FeeToken.Usdt);

        var full = await dapp.Ask<Rejected>(new RequestQuote(_dapp, KeyHash, request, Market), Wait);
        Assert.Equal(RejectionCodes.TooManyOpenQuotes, full.Rejection.Code);
        Assert.Equal(60, full.Rejection.RetryAfterSeconds);

        _clock.Advance(TimeSpan.FromSeconds(66));
        await QuoteAsync(dapp, "0x" + new string('a', 120));
        var tooManyBytes = await dapp.Ask<Rejected>(new RequestQuote(_dapp, KeyHash, request with { DataHex = "0x" + new string('a', 120) }, Market), Wait);
        Assert.Equal(RejectionCodes.TooManyOpenQuotes, tooManyBytes.Rejection.Code);
    }

    [Fact]
    public async Task A_fraud_rule_that_fires_freezes_the_dapp_with_its_rule_and_evidence_in_the_journal()
    {
        var settings = new DappSettings { Fraud = new FraudRules { UnexecutedMinQuotes = 5, UnexecutedMaxRatio = 1 } };
        var dapp = await RegisteredAndFundedAsync(settings);
        for (var i = 0; i < 5; i++) await QuoteAsync(dapp);

        await AwaitAssertAsync(async () => Assert.NotNull((await dapp.Ask<DappView>(new GetDapp(_dapp), Wait)).Frozen), Wait);
        var request = new QuoteRequest(Chain, Address.Parse("0x" + new string('1', 40)), Address.Parse("0x" + new string('2', 40)), "0x", 21_000, FeeToken.Usdt);
        Assert.Equal(RejectionCodes.DappFrozen, (await dapp.Ask<Rejected>(new RequestQuote(_dapp, KeyHash, request, Market), Wait)).Rejection.Code);

        // Recovered from the journal: still frozen, with the rule that fired.
        Watch(dapp);
        Sys.Stop(dapp);
        ExpectTerminated(dapp);
        var recovered = Sys.ActorOf(DappProps(settings));
        var frozen = (await recovered.Ask<DappView>(new GetDapp(_dapp), Wait)).Frozen;
        Assert.Equal("unexecuted-quotes", frozen?.Rule);
        Assert.Contains("5 quotes and 0 executions", frozen!.Evidence);
    }

    [Fact]
    public async Task Todays_spending_against_the_caps_is_rebuilt_exactly_from_the_journal()
    {
        var dapp = await RegisteredAndFundedAsync();
        var meta = new Meta(_clock.GetUtcNow(), "operator:test", "caps", "c-2");
        var caps = DappPolicy.Open(0) with { Limits = ImmutableDictionary<FeeToken, TokenLimits>.Empty.Add(FeeToken.Usdt, new TokenLimits(Daily: 1_000_000_000)) };
        await dapp.Ask<PolicyView>(new SetPolicy(_dapp, caps, new Bps(3_000), meta), Wait);
        dapp.Tell(Execute(await QuoteAsync(dapp), "k-1"));
        _pools.ExpectMsg<PoolCommands.RelayTransaction>(Wait);
        var before = await dapp.Ask<PolicyView>(new GetPolicy(_dapp, null), Wait);

        Watch(dapp);
        Sys.Stop(dapp);
        ExpectTerminated(dapp);
        var after = await Sys.ActorOf(DappProps()).Ask<PolicyView>(new GetPolicy(_dapp, null), Wait);

        Assert.True(before.SpentToday[FeeToken.Usdt] > 0);
        Assert.Equal(before.SpentToday[FeeToken.Usdt], after.SpentToday[FeeToken.Usdt]);
        Assert.Equal(1_000_000_000, after.Effective[FeeToken.Usdt].Daily);
    }

    [Fact]
    public async Task A_policy_put_and_a_timelocked_surcharge_that_cross_each_keep_the_others_part_also_after_recovery()
    {
        var dapp = await RegisteredAndFundedAsync();
        var meta = new Meta(_clock.GetUtcNow(), "operator:test", "race", "c-3");
        // Both writers read the dApp first (the PUT route and the dapp.surcharge handler do), then write in this order.
        var read = await dapp.Ask<PolicyView>(new GetPolicy(_dapp, null), Wait);
        var caps = DappPolicy.Open(9) with { Limits = ImmutableDictionary<FeeToken, TokenLimits>.Empty.Add(FeeToken.Usdt, new TokenLimits(Daily: 5_000_000)) };

        var timelocked = await dapp.Ask<PolicyView>(new SetPolicy(_dapp, null, new Bps(4_500), meta with { Reason = "timelock tl-1" }), Wait);
        var put = await dapp.Ask<PolicyView>(new SetPolicy(_dapp, caps, null, meta with { Reason = "policy put" }), Wait);

        Assert.NotEqual(new Bps(4_500), read.Surcharge);
        Assert.Equal(new Bps(4_500), timelocked.Surcharge);
        Assert.Equal((new Bps(4_500), 9, (BigInteger?)5_000_000), (put.Surcharge, put.Policy.QuotesPerSecond, put.Policy.Limits[FeeToken.Usdt].Daily));
        // The other order: the timelock's surcharge keeps the policy the PUT just wrote.
        var again = await dapp.Ask<PolicyView>(new SetPolicy(_dapp, null, new Bps(2_000), meta with { Reason = "timelock tl-2" }), Wait);
        Assert.Equal((new Bps(2_000), 9), (again.Surcharge, again.Policy.QuotesPerSecond));

        Watch(dapp);
        Sys.Stop(dapp);
        ExpectTerminated(dapp);
        var recovered = await Sys.ActorOf(DappProps()).Ask<PolicyView>(new GetPolicy(_dapp, null), Wait);
        Assert.Equal((new Bps(2_000), 9, (BigInteger?)5_000_000), (recovered.Surcharge, recovered.Policy.QuotesPerSecond, recovered.Policy.Limits[FeeToken.Usdt].Daily));
    }

    [Fact]
    public async Task A_release_and_a_settlement_of_one_quote_arriving_together_give_one_outcome_and_the_ledger_law_holds()
    {
        var (dapp, quote) = await ExecutedAsync();
        dapp.Tell(new RelaySucceeded(_dapp, quote, "0xaaa", Address.Parse("0x" + new string('1', 40)), 5));
        ExpectMsg<ExecutionAccepted>(Wait);

        dapp.Tell(new RelayFailed(_dapp, quote, "dropped"));
        dapp.Tell(new SettleFee(_dapp, quote, Chain, "0xaaa", 21_000, new Wei(1_000_000_000), true, 7, _clock.GetUtcNow()));

        _pools.ExpectMsg<SettleAck>(Wait);
        var status = await dapp.Ask<QuoteStatus>(new GetQuoteStatus(_dapp, KeyHash, quote), Wait);
        Assert.Equal(ExecutionStatus.Released, status.Execution!.Status);
        var ledger = (await dapp.Ask<Balances>(new GetBalances(_dapp, KeyHash), Wait)).Ledgers[FeeToken.Usdt];
        Assert.True(ledger.LawHolds, ledger.ToString());
        Assert.Equal(0, ledger.Held);
        Assert.Equal(0, ledger.Settled);
    }

    [Fact]
    public async Task A_duplicate_settlement_is_acknowledged_again_and_counted_once()
    {
        var (dapp, quote) = await ExecutedAsync();
        var settle = new SettleFee(_dapp, quote, Chain, "0xaaa", 21_000, new Wei(1_000_000_000), true, 7, _clock.GetUtcNow());

        dapp.Tell(settle);
        dapp.Tell(settle);

        _pools.ExpectMsg<SettleAck>(Wait);
        _pools.ExpectMsg<SettleAck>(Wait);
        var ledger = (await dapp.Ask<Balances>(new GetBalances(_dapp, KeyHash), Wait)).Ledgers[FeeToken.Usdt];
        Assert.True(ledger.LawHolds);
        Assert.Equal(FeeEngineSettledFee(), ledger.Settled);
    }

    [Fact]
    public async Task Every_hash_signed_for_a_quote_is_listed_in_its_status()
    {
        var (dapp, quote) = await ExecutedAsync();
        dapp.Tell(new RelaySucceeded(_dapp, quote, "0xaaa", Address.Parse("0x" + new string('1', 40)), 5));
        dapp.Tell(new RelayReplaced(_dapp, quote, "0xbbb", "SpeedUp"));
        dapp.Tell(new RelayReplaced(_dapp, quote, "0xbbb", "SpeedUp"));

        await AwaitAssertAsync(async () =>
        {
            var status = await dapp.Ask<QuoteStatus>(new GetQuoteStatus(_dapp, KeyHash, quote), Wait);
            Assert.Equal(["0xaaa", "0xbbb"], status.Execution!.TxHashes);
        }, Wait);
    }

    [Fact]
    public async Task A_dapp_holding_a_fee_nobody_relayed_asks_its_pool_again_when_it_restarts_without_any_caller()
    {
        var (dapp, quote) = await ExecutedAsync();
        Watch(dapp);
        Sys.Stop(dapp);
        await ExpectTerminatedAsync(dapp, Wait);

        Sys.ActorOf(DappProps(), "dapp-again");

        var again = _pools.ExpectMsg<PoolCommands.RelayTransaction>(Wait);
        Assert.Equal(quote, again.QuoteId);
    }

    /// <summary>A registered, funded dApp that executed one quote: the hold is deducted and the pool was asked to relay.</summary>
    private async Task<(IActorRef Dapp, QuoteId Quote)> ExecutedAsync()
    {
        var dapp = await RegisteredAndFundedAsync();
        var quote = await QuoteAsync(dapp);
        dapp.Tell(Execute(quote, "k-1"));
        _pools.ExpectMsg<PoolCommands.RelayTransaction>(Wait);
        return (dapp, quote);
    }

    private Props DappProps(DappSettings? settings = null) => DappActor.PropsFor(_dapp, _pools.Ref, _clock, settings ?? new DappSettings(), _modes, _denylist);

    private readonly GrandPaymaster.Actors.Compliance.DenylistBoard _denylist = new();

    private async Task<IActorRef> RegisteredAndFundedAsync(DappSettings? settings = null)
    {
        var dapp = Sys.ActorOf(DappProps(settings));
        var meta = new Meta(_clock.GetUtcNow(), "operator:test", "test", "c-1");
        await dapp.Ask<Registered>(new Register(_dapp, "Acme", KeyHash, new Bps(3_000), meta), Wait);
        await dapp.Ask<Balances>(new Deposit(_dapp, new TokenAmount(FeeToken.Usdt, 100_000_000), "wire-1", meta), Wait);
        await dapp.Ask<DappView>(new SetDirectCall(_dapp, new DirectCallTarget(Chain, Address.Parse("0x" + new string('2', 40))), true, meta), Wait);
        return dapp;
    }

    private async Task<QuoteId> QuoteAsync(IActorRef dapp, string data = "0x")
    {
        var request = new QuoteRequest(Chain, Address.Parse("0x" + new string('1', 40)), Address.Parse("0x" + new string('2', 40)), data, 21_000, FeeToken.Usdt);
        var issued = await dapp.Ask<QuoteIssued>(new RequestQuote(_dapp, KeyHash, request, Market), Wait);
        return issued.Quote.Id;
    }

    private static readonly MarketInputs Market = new(new Wei(1_000_000_000), new Bps(2_000), new ConversionRate(FeeToken.Usdt, 3_000_000_000));

    private static BigInteger FeeEngineSettledFee()
    {
        var hold = Domain.Fees.FeeEngine.Quote(21_000, Market.GasPrice, Market.Buffer, new Bps(3_000), Market.Rate).MaxFee;
        return Domain.Fees.FeeEngine.Settle(hold, 21_000, new Wei(1_000_000_000), new Bps(3_000), Market.Rate).Fee.Units;
    }

    private ExecuteQuote Execute(QuoteId quote, string key) => new(_dapp, KeyHash, quote, key, "request-hash", null);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _journal.Dispose();
    }

    private sealed class Modes : IPoolModes
    {
        public PoolModeView? Current { get; set; }

        public PoolModeView? Get(ChainId chainId) => Current;
    }
}
