using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;
using static GrandPaymaster.Domain.Dapps.DappCommands;
using static GrandPaymaster.Domain.Dapps.DappEvents;
using static GrandPaymaster.Domain.Dapps.DappReplies;

namespace GrandPaymaster.Domain.Tests.Dapps;

public sealed class DappStateTests
{
    private static readonly DappId Dapp = DappId.Parse("acme");
    private static readonly string KeyHash = DappState.HashApiKey("gpm_acme_secret");
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly Meta Meta = new(Now, "dapp:acme", "test", "c-1");

    private static DappState Funded(long usdtUnits = 100_000_000)
    {
        var state = DappState.Empty(Dapp);
        state = Apply(state, state.Decide(new Register(Dapp, "Acme", KeyHash, new Bps(3_000), Meta)).Events);
        state = Apply(state, state.Decide(new SetDirectCall(Dapp, new DirectCallTarget(new ChainId(31337), Address.Parse("0x" + new string('2', 40))), true, Meta)).Events);
        return Apply(state, state.Decide(new Deposit(Dapp, new TokenAmount(FeeToken.Usdt, usdtUnits), "wire-1", Meta)).Events);
    }

    private static Quote QuoteFor(DappState state, DateTimeOffset at)
    {
        var request = new QuoteRequest(new ChainId(31337), Address.Parse("0x" + new string('1', 40)), Address.Parse("0x" + new string('2', 40)), "0x", 100_000, FeeToken.Usdt);
        var market = new MarketInputs(new Wei(10_000_000_000), new Bps(2_000), new ConversionRate(FeeToken.Usdt, 3_000_000_000));
        return ((QuoteIssued)state.PriceQuote(new RequestQuote(Dapp, KeyHash, request, market), QuoteId.New(Dapp), at, TimeSpan.FromSeconds(60))).Quote;
    }

    private static DappState Apply(DappState state, IEnumerable<IDappEvent> events) => events.Aggregate(state, (s, e) => s.Apply(e));

    [Fact]
    public void A_quote_with_a_wrong_api_key_is_refused_as_unauthorized()
    {
        var reply = Funded().PriceQuote(new RequestQuote(Dapp, "wrong", null!, null!), QuoteId.New(Dapp), Now, TimeSpan.FromSeconds(60));

        Assert.Equal(RejectionCodes.Unauthorized, Assert.IsType<Rejected>(reply).Rejection.Code);
    }

    [Fact]
    public void Executing_moves_the_max_fee_from_available_into_a_hold_in_one_quoted_and_deducted_write()
    {
        var state = Funded();
        var quote = QuoteFor(state, Now);

        var decision = state.Decide(new ExecuteQuote(Dapp, KeyHash, quote.Id, "k1", "h1", "ref"), quote, Meta);
        state = Apply(state, decision.Events);

        Assert.Equal(ExecuteOutcome.Deducted, decision.Outcome);
        Assert.Collection(decision.Events, e => Assert.IsType<FeeQuoted>(e), e => Assert.IsType<FeeDeducted>(e));
        // 100k gas × 10 gwei = 0.001 ETH × (1 + 20% buffer + 30% surcharge) × 3,000 = 4.5 USDT
        Assert.Equal(100_000_000 - 4_500_000, state.LedgerOf(FeeToken.Usdt).Available);
        Assert.Equal(4_500_000, state.LedgerOf(FeeToken.Usdt).Held);
        Assert.True(state.LedgerOf(FeeToken.Usdt).LawHolds);
    }

    [Fact]
    public void An_expired_quote_is_refused_and_moves_nothing()
    {
        var state = Funded();
        var quote = QuoteFor(state, Now.AddMinutes(-2));

        var decision = state.Decide(new ExecuteQuote(Dapp, KeyHash, quote.Id, "k1", "h1", null), quote, Meta);

        Assert.Equal(RejectionCodes.QuoteExpired, Assert.IsType<Rejected>(decision.Reply).Rejection.Code);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void A_quote_above_the_available_balance_is_refused()
    {
        var state = Funded(usdtUnits: 1_000);
        var quote = QuoteFor(state, Now);

        var decision = state.Decide(new ExecuteQuote(Dapp, KeyHash, quote.Id, "k1", "h1", null), quote, Meta);

        Assert.Equal(RejectionCodes.InsufficientBalance, Assert.IsType<Rejected>(decision.Reply).Rejection.Code);
    }

    [Fact]
    public void The_same_idempotency_key_replays_while_another_body_or_quote_conflicts()
    {
        var state = Funded();
        var quote = QuoteFor(state, Now);
        state = Apply(state, state.Decide(new ExecuteQuote(Dapp, KeyHash, quote.Id, "k1", "h1", null), quote, Meta).Events);

        var inFlight = state.Decide(new ExecuteQuote(Dapp, KeyHash, quote.Id, "k1", "h1", null), quote, Meta);
        state = Apply(state, state.Decide(new RelaySucceeded(Dapp, quote.Id, "0xabc", default, 7), Meta).Events);
        var replay = state.Decide(new ExecuteQuote(Dapp, KeyHash, quote.Id, "k1", "h1", null), quote, Meta);
        var otherBody = state.Decide(new ExecuteQuote(Dapp, KeyHash, quote.Id, "k1", "h2", null), quote, Meta);
        var otherKey = state.Decide(new ExecuteQuote(Dapp, KeyHash, quote.Id, "k2", "h1", null), quote, Meta);

        Assert.Equal(ExecuteOutcome.InProgress, inFlight.Outcome);
        Assert.Equal(new ExecutionAccepted(quote.Id, "0xabc"), replay.Reply);
        Assert.Equal(RejectionCodes.IdempotencyConflict, Assert.IsType<Rejected>(otherBody.Reply).Rejection.Code);
        Assert.Equal(RejectionCodes.QuoteAlreadyExecuted, Assert.IsType<Rejected>(otherKey.Reply).Rejection.Code);
        Assert.All([replay, otherBody, otherKey], d => Assert.Empty(d.Events));
    }

    [Fact]
    public void A_failed_relay_releases_the_hold_and_a_second_settlement_changes_nothing()
    {
        var state = Funded();
        var quote = QuoteFor(state, Now);
        state = Apply(state, state.Decide(new ExecuteQuote(Dapp, KeyHash, quote.Id, "k1", "h1", null), quote, Meta).Events);

        state = Apply(state, state.Decide(new RelayFailed(Dapp, quote.Id, "connection refused"), Meta).Events);

        Assert.Equal(100_000_000, state.LedgerOf(FeeToken.Usdt).Available);
        Assert.Equal(0, state.LedgerOf(FeeToken.Usdt).Held);
        Assert.Equal(ExecutionStatus.Released, state.Executions[quote.Id].Status);
    }

    [Fact]
    public void A_submitted_hold_still_awaits_its_relays_outcome_so_a_release_lost_in_a_crash_is_asked_for_again()
    {
        // Found by the simulation: the pool dropped a submitted transaction and its RelayFailed was lost in a crash;
        // only holds with no relay answer were asked about again, so this hold stayed open for ever.
        var state = Funded();
        var quote = QuoteFor(state, Now);
        state = Apply(state, state.Decide(new ExecuteQuote(Dapp, KeyHash, quote.Id, "k1", "h1", null), quote, Meta).Events);
        Assert.Equal(quote.Id, Assert.Single(state.AwaitingRelay).Quote.Id);

        state = Apply(state, state.Decide(new RelaySucceeded(Dapp, quote.Id, "0xabc", default, 7), Meta).Events);
        Assert.Equal(quote.Id, Assert.Single(state.AwaitingRelay).Quote.Id);

        state = Apply(state, state.Decide(new RelayFailed(Dapp, quote.Id, "dropped: its nonce was used by another transaction"), Meta).Events);
        Assert.Empty(state.AwaitingRelay);
        Assert.Equal(0, state.LedgerOf(FeeToken.Usdt).Held);
    }

    [Fact]
    public void Settling_twice_is_acknowledged_twice_and_charged_once()
    {
        var state = Funded();
        var quote = QuoteFor(state, Now);
        state = Apply(state, state.Decide(new ExecuteQuote(Dapp, KeyHash, quote.Id, "k1", "h1", null), quote, Meta).Events);
        var settle = new SettleFee(Dapp, quote.Id, new ChainId(31337), "0xabc", 50_000, new Wei(9_000_000_000), true, 12, Now);

        var first = state.Decide(settle, Meta);
        state = Apply(state, first.Events);
        var second = state.Decide(settle, Meta);

        Assert.Single(first.Events);
        Assert.Empty(second.Events);
        Assert.IsType<SettleAck>(second.Reply);
        var ledger = state.LedgerOf(FeeToken.Usdt);
        Assert.Equal(1_755_000, ledger.Settled); // 50k gas × 9 gwei = 0.00045 ETH × 1.3 × 3,000 = 1.755 USDT
        Assert.Equal(100_000_000 - 1_755_000, ledger.Available);
        Assert.Equal(0, ledger.Held);
        Assert.True(ledger.LawHolds);
    }

    [Fact]
    public void Closed_executions_beyond_the_retention_are_let_go_without_touching_the_ledger()
    {
        var state = Funded(usdtUnits: 100_000_000_000);
        var first = default(QuoteId);
        for (var i = 0; i <= DappState.RetainClosed; i++)
        {
            var quote = QuoteFor(state, Now);
            if (i == 0) first = quote.Id;
            state = Apply(state, state.Decide(new ExecuteQuote(Dapp, KeyHash, quote.Id, $"k{i}", "h", null), quote, Meta).Events);
            state = Apply(state, state.Decide(new SettleFee(Dapp, quote.Id, new ChainId(31337), "0xabc", 21_000, new Wei(1_000_000_000), true, 1, Now), Meta).Events);
        }

        Assert.Equal(DappState.RetainClosed, state.Executions.Count);
        Assert.False(state.Executions.ContainsKey(first));
        Assert.False(state.IdempotencyKeys.ContainsKey("k0"));
        var ledger = state.LedgerOf(FeeToken.Usdt);
        Assert.True(ledger.LawHolds);
        Assert.Equal(0, ledger.Held);
        Assert.Equal((DappState.RetainClosed + 1) * 81_900, ledger.Settled); // 21,000 gas × 1 gwei × 1.3 × 3,000 = 0.0819 USDT each
    }

    [Fact]
    public void A_deposit_retried_with_its_reference_is_credited_once()
    {
        var state = Funded();
        var retry = state.Decide(new Deposit(Dapp, new TokenAmount(FeeToken.Usdt, 100_000_000), "wire-1", Meta));
        var other = state.Decide(new Deposit(Dapp, new TokenAmount(FeeToken.Usdt, 5), "wire-2", Meta));

        Assert.Empty(retry.Events);
        Assert.Equal(100_000_000, ((Balances)retry.Reply).Ledgers[FeeToken.Usdt].Deposited);
        Assert.Single(other.Events);
    }

    [Theory]
    [InlineData("Usdt", 99_999_999)]
    [InlineData("Usdt", 100_000_001)]
    [InlineData("Vcn", 100_000_000)]
    public void A_deposit_reference_reused_with_another_amount_or_token_is_a_conflict_and_credits_nothing(string token, long units)
    {
        var state = Funded();

        var reused = state.Decide(new Deposit(Dapp, new TokenAmount(Enum.Parse<FeeToken>(token), units), "wire-1", Meta));

        Assert.Equal(RejectionCodes.DepositReferenceConflict, Assert.IsType<Rejected>(reused.Reply).Rejection.Code);
        Assert.Contains("wire-1", Assert.IsType<Rejected>(reused.Reply).Rejection.Message);
        Assert.Empty(reused.Events);
    }

    [Fact]
    public void A_deposit_reference_from_an_older_snapshot_without_its_amount_still_counts_once()
    {
        var state = Funded() with { DepositReferences = DappState.Empty(Dapp).DepositReferences.Add("wire-0", null) };

        var retry = state.Decide(new Deposit(Dapp, new TokenAmount(FeeToken.Vcn, 7), "wire-0", Meta));

        Assert.IsType<Balances>(retry.Reply);
        Assert.Empty(retry.Events);
    }

    [Fact]
    public void Deposits_without_a_reference_are_all_credited_and_remember_nothing()
    {
        var state = Funded();
        var first = state.Decide(new Deposit(Dapp, new TokenAmount(FeeToken.Usdt, 5), "", Meta));
        state = Apply(state, first.Events);
        var second = state.Decide(new Deposit(Dapp, new TokenAmount(FeeToken.Usdt, 5), "", Meta));

        Assert.Single(first.Events);
        Assert.Single(second.Events);
        Assert.Equal(["wire-1"], state.DepositReferences.Keys);
    }
}
