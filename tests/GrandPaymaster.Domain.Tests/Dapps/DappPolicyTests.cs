using System.Collections.Immutable;
using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;
using static GrandPaymaster.Domain.Dapps.DappCommands;
using static GrandPaymaster.Domain.Dapps.DappEvents;
using static GrandPaymaster.Domain.Dapps.DappReplies;

namespace GrandPaymaster.Domain.Tests.Dapps;

/// <summary>S10 and the policy of a dApp in the pure state: caps per UTC day and per user, limits within the operator's, chains, targets, freeze.</summary>
public sealed class DappPolicyTests
{
    private static readonly DappId Dapp = DappId.Parse("capped");
    private static readonly string KeyHash = DappState.HashApiKey("gpm_capped_secret");
    private static readonly DateTimeOffset Noon = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly ChainId Chain = new(31337);
    private static readonly Address Forwarder = Address.Parse("0x" + new string('f', 40));
    private static readonly Address Target = Address.Parse("0x" + new string('2', 40));
    private static readonly Address Alice = Address.Parse("0x" + new string('a', 40));
    private static readonly Address Bob = Address.Parse("0x" + new string('b', 40));

    // Every quote below holds 4.5 USDT (100k gas × 10 gwei × 1.5 × 3,000 USDT/ETH).
    private const long Hold = 4_500_000;

    private static Meta Operator(DateTimeOffset at, string reason = "policy review") => new(at, "operator:olga", reason, "c-1");

    private static DappState Funded(DappPolicy? policy = null)
    {
        var state = DappState.Empty(Dapp);
        state = Apply(state, state.Decide(new Register(Dapp, "Capped", KeyHash, new Bps(3_000), Operator(Noon))).Events);
        state = Apply(state, state.Decide(new Deposit(Dapp, new TokenAmount(FeeToken.Usdt, 1_000_000_000), "wire-1", Operator(Noon))).Events);
        return policy is null ? state : Apply(state, state.Decide(new SetPolicy(Dapp, policy, new Bps(3_000), Operator(Noon))).Events);
    }

    private static DappPolicy Caps(BigInteger? daily = null, BigInteger? perUser = null, BigInteger? perTx = null) =>
        DappPolicy.Open(0) with { Limits = ImmutableDictionary<FeeToken, TokenLimits>.Empty.Add(FeeToken.Usdt, new TokenLimits(daily, perUser, perTx)) };

    private static IPaymasterMessage Price(DappState state, Address user, DateTimeOffset at, Address? to = null, ChainId? chain = null)
    {
        var request = new QuoteRequest(chain ?? Chain, user, to ?? Target, "0x", 100_000, FeeToken.Usdt);
        var market = new MarketInputs(new Wei(10_000_000_000), new Bps(2_000), new ConversionRate(FeeToken.Usdt, 3_000_000_000));
        return state.PriceQuote(new RequestQuote(Dapp, KeyHash, request, market, new ForwardInputs(Forwarder, 0, 80_000)), QuoteId.New(Dapp), at,
            TimeSpan.FromSeconds(60));
    }

    private static (DappState State, IPaymasterMessage Reply, Quote? Quote) Execute(DappState state, Address user, DateTimeOffset at)
    {
        if (Price(state, user, at) is not QuoteIssued issued) return (state, Price(state, user, at), null);
        var decision = state.Decide(new ExecuteQuote(Dapp, KeyHash, issued.Quote.Id, Guid.NewGuid().ToString(), "h", null, "0xsig"), issued.Quote, new Meta(at, "dapp:capped", "execute", "c"));
        return (Apply(state, decision.Events), decision.Reply ?? new ExecutionAccepted(issued.Quote.Id, ""), issued.Quote);
    }

    private static DappState Apply(DappState state, IEnumerable<IDappEvent> events) => events.Aggregate(state, (s, e) => s.Apply(e));

    private static string Code(IPaymasterMessage reply) => Assert.IsType<Rejected>(reply).Rejection.Code;

    [Fact]
    public void The_daily_cap_refuses_the_hold_that_would_pass_it_and_says_when_it_resets()
    {
        var state = Funded(Caps(daily: 2 * Hold));
        state = Execute(state, Alice, Noon).State;
        state = Execute(state, Bob, Noon).State;

        var (_, reply, _) = Execute(state, Alice, Noon.AddMinutes(1));

        var rejection = Assert.IsType<Rejected>(reply).Rejection;
        Assert.Equal(RejectionCodes.DailyCapExceeded, rejection.Code);
        Assert.Equal((int)TimeSpan.FromHours(12).TotalSeconds - 60, rejection.RetryAfterSeconds);
        Assert.Equal(2 * Hold, state.Spend.TotalOn(DailySpend.DayOf(Noon), FeeToken.Usdt));
    }

    [Fact]
    public void The_counters_start_again_at_the_utc_day_boundary()
    {
        var state = Funded(Caps(daily: Hold));
        state = Execute(state, Alice, Noon).State;
        Assert.Equal(RejectionCodes.DailyCapExceeded, Code(Execute(state, Alice, new DateTimeOffset(2026, 11, 24, 23, 59, 59, TimeSpan.Zero)).Reply));

        var (next, reply, _) = Execute(state, Alice, new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero));

        Assert.IsType<ExecutionAccepted>(reply);
        Assert.Equal(Hold, next.Spend.TotalOn(new DateOnly(2026, 11, 25), FeeToken.Usdt));
    }

    [Fact]
    public void The_per_user_cap_counts_each_signer_on_their_own()
    {
        var state = Funded(Caps(perUser: Hold));
        state = Execute(state, Alice, Noon).State;

        Assert.Equal(RejectionCodes.UserCapExceeded, Code(Execute(state, Alice, Noon).Reply));
        Assert.IsType<ExecutionAccepted>(Execute(state, Bob, Noon).Reply);
    }

    [Fact]
    public void A_settled_hold_counts_its_fee_and_a_released_one_nothing()
    {
        var state = Funded(Caps(daily: 2 * Hold));
        var (afterFirst, _, first) = Execute(state, Alice, Noon);
        var (afterSecond, _, second) = Execute(afterFirst, Bob, Noon);
        state = afterSecond;

        state = Apply(state, state.Decide(new SettleFee(Dapp, first!.Id, Chain, "0x1", 50_000, new Wei(10_000_000_000), true, 1, Noon), Meta.System("pool", "settle", Noon)).Events);
        state = Apply(state, state.Decide(new RelayFailed(Dapp, second!.Id, "dropped"), Meta.System("pool", "relay failed", Noon)).Events);

        // 50k gas × 10 gwei × 1.3 × 3,000 = 1.95 USDT settled; the released hold is back in the cap.
        Assert.Equal(1_950_000, state.Spend.TotalOn(DailySpend.DayOf(Noon), FeeToken.Usdt));
        Assert.IsType<ExecutionAccepted>(Execute(state, Alice, Noon).Reply);
    }

    [Fact]
    public void A_quote_above_the_per_transaction_limit_is_refused_before_it_is_issued()
    {
        Assert.Equal(RejectionCodes.MaxFeeExceeded, Code(Price(Funded(Caps(perTx: Hold - 1)), Alice, Noon)));
        Assert.IsType<QuoteIssued>(Price(Funded(Caps(perTx: Hold)), Alice, Noon));
    }

    [Fact]
    public void A_dapp_sets_its_own_limits_only_within_its_operators_and_the_change_applies_to_the_next_quote()
    {
        var state = Funded(Caps(daily: 10 * Hold));
        var meta = new Meta(Noon, "dapp:capped", "tighter for launch week", "c");
        var above = ImmutableDictionary<FeeToken, TokenLimits>.Empty.Add(FeeToken.Usdt, new TokenLimits(Daily: 11 * Hold));
        var within = ImmutableDictionary<FeeToken, TokenLimits>.Empty.Add(FeeToken.Usdt, new TokenLimits(Daily: Hold));

        Assert.Equal(RejectionCodes.Forbidden, Code(state.Decide(new SetOwnLimits(Dapp, KeyHash, above, meta)).Reply));
        var set = state.Decide(new SetOwnLimits(Dapp, KeyHash, within, meta));
        state = Apply(state, set.Events);
        state = Execute(state, Alice, Noon).State;

        Assert.Equal("dapp:capped", Assert.IsType<OwnLimitsSet>(Assert.Single(set.Events)).Meta.Actor);
        Assert.Equal(RejectionCodes.DailyCapExceeded, Code(Price(state, Bob, Noon)));
    }

    [Fact]
    public void Chains_and_targets_outside_the_policy_are_refused()
    {
        var state = Funded(DappPolicy.Open(0) with { AllowedChains = [31338], AllowedTargets = [Bob] });

        Assert.Equal(RejectionCodes.ChainNotAllowed, Code(Price(state, Alice, Noon, to: Bob)));
        Assert.Equal(RejectionCodes.TargetNotAllowed, Code(Price(state, Alice, Noon, chain: new ChainId(31338))));
        Assert.IsType<QuoteIssued>(Price(state, Alice, Noon, to: Bob, chain: new ChainId(31338)));
    }

    [Fact]
    public void A_frozen_dapp_gets_no_quote_and_no_hold_for_a_quote_it_already_had_until_an_operator_unfreezes_it()
    {
        var state = Funded();
        var quote = Assert.IsType<QuoteIssued>(Price(state, Alice, Noon)).Quote;
        var frozen = state.Decide(new FreezeDapp(Dapp, "fresh-senders", "400 never-seen senders", Meta.System("fraud-watch", "fraud rule fresh-senders", Noon)));
        state = Apply(state, frozen.Events);

        Assert.Equal(RejectionCodes.DappFrozen, Code(Price(state, Alice, Noon)));
        var execute = state.Decide(new ExecuteQuote(Dapp, KeyHash, quote.Id, "k", "h", null, "0xsig"), quote, new Meta(Noon, "dapp:capped", "execute", "c"));
        Assert.Equal(RejectionCodes.DappFrozen, Code(execute.Reply!));
        Assert.Empty(execute.Events);

        var unfrozen = state.Decide(new UnfreezeDapp(Dapp, Operator(Noon, "false positive: launch campaign")));
        state = Apply(state, unfrozen.Events);
        var evt = Assert.IsType<DappUnfrozen>(Assert.Single(unfrozen.Events));
        Assert.Equal(("operator:olga", "false positive: launch campaign"), (evt.Meta.Actor, evt.Meta.Reason));
        Assert.IsType<QuoteIssued>(Price(state, Alice, Noon));
    }

    [Fact]
    public void Throttle_reports_from_two_edges_give_one_entry_a_later_end_and_one_exit()
    {
        var state = Funded();
        Meta Edge(DateTimeOffset at) => Meta.System("edge-throttle", "THROTTLED", at);
        var first = state.Decide(new ReportThrottle(Dapp, true, "bucket", Noon.AddSeconds(30), Edge(Noon)));
        state = Apply(state, first.Events);
        var sameOrShorter = state.Decide(new ReportThrottle(Dapp, true, "bucket", Noon.AddSeconds(20), Edge(Noon.AddSeconds(1))));
        var longer = state.Decide(new ReportThrottle(Dapp, true, "surge", Noon.AddSeconds(40), Edge(Noon.AddSeconds(10))));
        state = Apply(state, longer.Events);
        var firstEdgeLifts = state.Decide(new ReportThrottle(Dapp, false, "cooldown over", Noon.AddSeconds(30), Edge(Noon.AddSeconds(31))));
        var secondEdgeLifts = state.Decide(new ReportThrottle(Dapp, false, "cooldown over", Noon.AddSeconds(40), Edge(Noon.AddSeconds(41))));

        Assert.IsType<DappThrottled>(Assert.Single(first.Events));
        Assert.Empty(sameOrShorter.Events);
        Assert.Equal(Noon.AddSeconds(40), Assert.IsType<DappThrottled>(Assert.Single(longer.Events)).Until);
        Assert.Empty(firstEdgeLifts.Events);
        Assert.IsType<DappThrottleLifted>(Assert.Single(secondEdgeLifts.Events));
    }

    [Fact]
    public void A_hold_stamped_with_an_earlier_day_by_a_clock_behind_still_counts_against_todays_cap()
    {
        var state = Funded(Caps(daily: 2 * Hold));
        var midnight = new DateTimeOffset(2026, 11, 25, 0, 0, 1, TimeSpan.Zero);
        state = Execute(state, Alice, midnight).State;
        // The entity moved to a node whose clock is two seconds behind: its next hold is stamped 23:59:59 of the day before.
        state = Execute(state, Bob, midnight.AddSeconds(-2)).State;

        Assert.Equal(2 * Hold, state.Spend.TotalOn(new DateOnly(2026, 11, 25), FeeToken.Usdt));
        Assert.Equal(RejectionCodes.DailyCapExceeded, Code(Execute(state, Alice, midnight.AddSeconds(-1)).Reply));
    }

    [Fact]
    public void An_operators_policy_change_is_an_event_with_who_and_why_and_sets_the_surcharge()
    {
        var state = Funded();
        var decision = state.Decide(new SetPolicy(Dapp, Caps(daily: 1), new Bps(4_000), Operator(Noon, "risk review #12")));

        var set = Assert.IsType<PolicySet>(Assert.Single(decision.Events));
        Assert.Equal(("operator:olga", "risk review #12"), (set.Meta.Actor, set.Meta.Reason));
        Assert.Equal(new Bps(4_000), Apply(state, decision.Events).Profile!.Surcharge);
        Assert.Equal(RejectionCodes.InvalidRequest, Code(state.Decide(new SetPolicy(Dapp, Caps(), new Bps(6_000), Operator(Noon))).Reply));
    }

    [Fact]
    public void A_policy_change_without_a_surcharge_keeps_the_surcharge_the_dapp_has_then_and_records_it()
    {
        var state = Funded();
        state = Apply(state, state.Decide(new SetPolicy(Dapp, null, new Bps(4_000), Operator(Noon, "dapp.surcharge"))).Events);

        // A policy PUT that read the surcharge before the timelock's change lands after it: the new surcharge stays.
        var decision = state.Decide(new SetPolicy(Dapp, Caps(daily: 7), null, Operator(Noon, "caps")));

        var set = Assert.IsType<PolicySet>(Assert.Single(decision.Events));
        Assert.Equal((Caps(daily: 7).Limits[FeeToken.Usdt], new Bps(4_000)), (set.Policy.Limits[FeeToken.Usdt], set.Surcharge));
        var after = Apply(state, decision.Events);
        Assert.Equal((new Bps(4_000), (BigInteger?)7), (after.Profile!.Surcharge, after.Policy!.Limits[FeeToken.Usdt].Daily));
    }

    [Fact]
    public void A_surcharge_change_without_a_policy_keeps_the_policy_the_dapp_has_then_and_records_it()
    {
        var state = Funded(Caps(daily: 1) with { QuotesPerSecond = 7, AllowedChains = [31337] });

        var decision = state.Decide(new SetPolicy(Dapp, null, new Bps(2_500), Operator(Noon, "dapp.surcharge")));

        var set = Assert.IsType<PolicySet>(Assert.Single(decision.Events));
        Assert.Equal(new Bps(2_500), set.Surcharge);
        Assert.Same(state.Policy, set.Policy); // the whole current policy, so a replay of the event alone rebuilds it
        var after = Apply(state, decision.Events);
        Assert.Equal((new Bps(2_500), 7, (BigInteger?)1), (after.Profile!.Surcharge, after.Policy!.QuotesPerSecond, after.Policy.Limits[FeeToken.Usdt].Daily));
        Assert.Equal([31337L], after.Policy.AllowedChains!);

        // A dApp that never had a policy gets the open one (what it was served under) with the new surcharge.
        var open = Funded().Decide(new SetPolicy(Dapp, null, new Bps(2_500), Operator(Noon)));
        Assert.Equal(DappPolicy.Open(0).QuotesPerSecond, Assert.IsType<PolicySet>(Assert.Single(open.Events)).Policy.QuotesPerSecond);
        Assert.Null(Assert.IsType<PolicySet>(Assert.Single(open.Events)).Policy.AllowedChains);
        Assert.Equal(RejectionCodes.InvalidRequest, Code(state.Decide(new SetPolicy(Dapp, null, null, Operator(Noon))).Reply));
        Assert.Equal(RejectionCodes.InvalidRequest, Code(state.Decide(new SetPolicy(Dapp, null, new Bps(1_000), Operator(Noon))).Reply));
    }
}
