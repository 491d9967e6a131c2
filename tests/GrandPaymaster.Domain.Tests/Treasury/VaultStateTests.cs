using System.Collections.Immutable;
using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Treasury;
using static GrandPaymaster.Domain.Treasury.VaultEvents;
using static GrandPaymaster.Domain.Treasury.VaultProtocol;

namespace GrandPaymaster.Domain.Tests.Treasury;

/// <summary>The vault's decisions without an actor: pool wallets, limits, idempotent top-ups, proposals and their approvals.</summary>
public sealed class VaultStateTests
{
    private static readonly ChainId Chain = new(31337);
    private static readonly Address Pool = Address.Parse("0x" + new string('a', 40));
    private static readonly Address Stranger = Address.Parse("0x" + new string('b', 40));
    private static readonly DateTimeOffset Noon = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly BigInteger Coin = Wei.PerCoin;

    private static readonly VaultPolicy Policy = new()
    {
        DefaultLimits = new VaultLimits(new Wei(10 * Coin), new Wei(4 * Coin)),
        ApprovalsRequired = 2,
        ProposalTtl = TimeSpan.FromHours(1),
        MaxOpenProposals = 2,
        MaxOpenTopUps = 3,
    };

    private static Meta By(string who, string why = "test") => new(Noon, who, why, "c");

    private static VaultState WithPool()
    {
        var (_, _, e) = VaultState.Empty.Decide(new RegisterPoolWallet(Chain, Pool, Meta.System("bootstrap", "key source", Noon)), Noon, Policy);
        return VaultState.Empty.Apply(e!);
    }

    private static TopUpRequest TopUp(string id, BigInteger amount, Address? to = null) =>
        new(id, Chain, to ?? Pool, new Wei(amount), RebalancePriority.Critical, Meta.System("orchestrator", "below min", Noon));

    [Fact]
    public void A_pool_wallet_is_registered_once_by_the_bootstrap()
    {
        var state = WithPool();
        var (reply, refusal, again) = state.Decide(new RegisterPoolWallet(Chain, Pool, Meta.System("bootstrap", "again", Noon)), Noon, Policy);

        Assert.True(state.IsPoolWallet(Chain, Pool));
        Assert.False(reply.Added);
        Assert.Null(refusal);
        Assert.Null(again);
    }

    [Fact]
    public void A_top_up_to_a_pool_wallet_within_the_limits_is_accepted_and_counted_in_the_day()
    {
        var state = WithPool();
        var (reply, e) = state.Decide(TopUp("r-1", 3 * Coin), Noon, Policy, vaultHoldsChain: true);

        Assert.Null(reply); // answered once signed
        var accepted = Assert.IsType<TopUpAccepted>(e);
        state = state.Apply(accepted);
        Assert.Equal(3 * Coin, state.UsedOn(Chain, DateOnly.FromDateTime(Noon.UtcDateTime)));
        Assert.Equal(TopUpStatus.Accepted, state.TopUps["r-1"].Status);
    }

    [Theory]
    [InlineData("stranger", 1, VaultCodes.NotAPoolWallet)]
    [InlineData("pool", 5, VaultCodes.AboveAutoLimit)]
    [InlineData("pool", 0, VaultCodes.InvalidRequest)]
    public void A_top_up_outside_the_rules_is_refused_and_the_refusal_is_an_event(string to, int coins, string code)
    {
        var state = WithPool();
        var (reply, e) = state.Decide(TopUp("r-x", coins * Coin, to == "pool" ? Pool : Stranger), Noon, Policy, vaultHoldsChain: true);

        var failed = Assert.IsType<VaultProtocol.TopUpFailed>(reply);
        Assert.Equal((code, false), (failed.Code, failed.Retryable));
        var refused = Assert.IsType<TopUpRefused>(e);
        Assert.Equal(code, refused.Code);
        state = state.Apply(refused);
        // The same request id is answered the same way, without another event.
        var (again, none) = state.Decide(TopUp("r-x", coins * Coin, to == "pool" ? Pool : Stranger), Noon, Policy, vaultHoldsChain: true);
        Assert.Equal(code, Assert.IsType<VaultProtocol.TopUpFailed>(again).Code);
        Assert.Null(none);
    }

    [Fact]
    public void In_flight_and_completed_top_ups_count_against_the_daily_limit_and_a_failed_one_gives_its_amount_back()
    {
        var state = WithPool();
        foreach (var id in new[] { "a", "b" })
            state = state.Apply(state.Decide(TopUp(id, 4 * Coin), Noon, Policy, true).Event!);
        state = state.Apply(new TopUpSigned("a", 0, "0xa", "0x02", Meta.System("vault", "signed", Noon)));
        state = state.Apply(new VaultEvents.TopUpCompleted("a", "0xa", 5, Meta.System("vault", "mined", Noon)));

        var (reply, e) = state.Decide(TopUp("c", 3 * Coin), Noon, Policy, true);
        Assert.Equal(VaultCodes.DailyLimitExceeded, Assert.IsType<TopUpRefused>(e).Code);
        Assert.False(Assert.IsType<VaultProtocol.TopUpFailed>(reply).Retryable);

        state = state.Apply(new VaultEvents.TopUpFailed("b", VaultCodes.VaultRpcDown, "down", true, Meta.System("vault", "down", Noon)));
        Assert.IsType<TopUpAccepted>(state.Decide(TopUp("d", 3 * Coin), Noon, Policy, true).Event);
        // The next UTC day starts from zero.
        Assert.IsType<TopUpAccepted>(state.Decide(TopUp("e", 4 * Coin), Noon.AddHours(13), Policy, true).Event);
    }

    [Fact]
    public void A_known_request_is_answered_from_its_record_and_never_accepted_twice_but_a_retryable_failure_may_be_tried_again()
    {
        var state = WithPool();
        state = state.Apply(state.Decide(TopUp("r-1", Coin), Noon, Policy, true).Event!);
        Assert.Equal((null, null), state.Decide(TopUp("r-1", Coin), Noon, Policy, true));

        state = state.Apply(new TopUpSigned("r-1", 7, "0xabc", "0x02f8", Meta.System("vault", "signed", Noon)));
        var (submitted, none) = state.Decide(TopUp("r-1", Coin), Noon, Policy, true);
        Assert.Equal(new TopUpSubmitted("r-1", "0xabc"), submitted);
        Assert.Null(none);

        state = state.Apply(new VaultEvents.TopUpCompleted("r-1", "0xabc", 9, Meta.System("vault", "mined", Noon)));
        Assert.Equal(new VaultProtocol.TopUpCompleted("r-1", "0xabc", new Wei(Coin)), state.Decide(TopUp("r-1", Coin), Noon, Policy, true).Reply);

        state = state.Apply(state.Decide(TopUp("r-2", Coin), Noon, Policy, true).Event!);
        state = state.Apply(new VaultEvents.TopUpFailed("r-2", VaultCodes.VaultRpcDown, "down", true, Meta.System("vault", "down", Noon)));
        Assert.IsType<TopUpAccepted>(state.Decide(TopUp("r-2", Coin), Noon, Policy, true).Event);
    }

    [Fact]
    public void Request_ids_of_proposals_and_chains_without_a_vault_wallet_are_refused()
    {
        var state = WithPool();
        Assert.Equal(VaultCodes.InvalidRequest, Assert.IsType<TopUpRefused>(state.Decide(TopUp("proposal:vp-1", Coin), Noon, Policy, true).Event).Code);
        Assert.Equal(VaultCodes.UnknownChain, Assert.IsType<TopUpRefused>(state.Decide(TopUp("r-9", Coin), Noon, Policy, false).Event).Code);
    }

    [Fact]
    public void Open_top_ups_are_bounded_and_beyond_the_bound_the_vault_is_busy_without_an_event()
    {
        var state = WithPool();
        foreach (var id in new[] { "a", "b", "c" })
            state = state.Apply(state.Decide(TopUp(id, Coin / 10), Noon, Policy, true).Event!);

        var (reply, e) = state.Decide(TopUp("d", Coin / 10), Noon, Policy, true);
        Assert.Equal((VaultCodes.VaultBusy, true), (Assert.IsType<VaultProtocol.TopUpFailed>(reply).Code, ((VaultProtocol.TopUpFailed)reply).Retryable));
        Assert.Null(e);
    }

    [Fact]
    public void Closed_top_ups_beyond_the_retention_are_forgotten_in_memory()
    {
        var state = WithPool() with { RetainedClosed = 2 };
        foreach (var id in new[] { "a", "b", "c" })
            state = state.Apply(state.Decide(TopUp(id, Coin, Stranger), Noon, Policy, true).Event!);

        Assert.Equal(["b", "c"], state.ClosedTopUps);
        Assert.False(state.TopUps.ContainsKey("a"));
    }

    [Fact]
    public void A_proposal_needs_two_distinct_approvers_other_than_the_proposer_and_then_executes_once()
    {
        var state = WithPool();
        var (created, e) = state.Decide(new ProposeTransfer(Chain, Stranger, new Wei(20 * Coin), By("operator:olga", "cold storage")), Noon, Policy, true);
        state = state.Apply(e!);
        var proposal = Assert.IsType<VaultProposal>(created);
        Assert.Equal(("vp-1", ProposalStatus.Open, Noon.AddHours(1), "operator:olga"), (proposal.Id, proposal.Status, proposal.ExpiresAt, proposal.ProposedBy));

        state = Approve(state, "operator:olga", true, VaultCodes.ProposerCannotApprove);
        state = Approve(state, "operator:vic", false, VaultCodes.NotAnApprover);
        state = Approve(state, "operator:alice", true, null);
        state = Approve(state, "operator:alice", true, VaultCodes.AlreadyApproved);
        Assert.Equal(ProposalStatus.Open, state.Proposals["vp-1"].Status);
        Assert.DoesNotContain(state.TopUps.Keys, k => k.StartsWith("proposal:", StringComparison.Ordinal));

        var (reply, events) = state.Decide(new ApproveProposal("vp-1", true, By("operator:bob")), Noon.AddMinutes(5));
        Assert.Equal([typeof(ProposalApproved), typeof(ProposalExecuted), typeof(TopUpAccepted)], events.Select(x => x.GetType()));
        state = events.Aggregate(state, (s, x) => s.Apply(x));
        Assert.Equal(ProposalStatus.Executed, Assert.IsType<VaultProposal>(reply).Status);
        var transfer = state.TopUps["proposal:vp-1"];
        Assert.Equal((Stranger, new Wei(20 * Coin), "vp-1"), (transfer.To, transfer.Amount, transfer.ProposalId));
        // Not counted against the automatic daily limit (people approved it), and a further approval changes nothing.
        Assert.Equal(BigInteger.Zero, state.UsedOn(Chain, DateOnly.FromDateTime(Noon.UtcDateTime)));
        Approve(state, "operator:carol", true, VaultCodes.ProposalExecuted);
    }

    [Fact]
    public void Expired_and_cancelled_proposals_take_no_approval_and_the_refusals_are_journaled()
    {
        var state = WithPool();
        state = state.Apply(state.Decide(new ProposeTransfer(Chain, Stranger, new Wei(Coin), By("operator:olga")), Noon, Policy, true).Event!);
        state = state.Apply(state.Decide(new ProposeTransfer(Chain, Pool, new Wei(9 * Coin), By("operator:olga")), Noon, Policy, true).Event!);
        Assert.Equal(VaultCodes.ProposalsFull,
            Assert.IsType<VaultRefused>(state.Decide(new ProposeTransfer(Chain, Pool, new Wei(Coin), By("operator:olga")), Noon, Policy, true).Reply).Code);

        var (_, late) = state.Decide(new ApproveProposal("vp-1", true, By("operator:alice")), Noon.AddHours(2));
        Assert.Equal(VaultCodes.ProposalExpired, Assert.IsType<ProposalApprovalRefused>(Assert.Single(late)).Code);
        Assert.Equal(["vp-1", "vp-2"], state.ExpiredAt(Noon.AddHours(2)).Select(p => p.Id));
        state = state.Apply(new ProposalExpired("vp-1", Meta.System("vault", "expired", Noon.AddHours(2))));

        var (cancelled, c) = state.Decide(new CancelProposal("vp-2", By("operator:olga", "wrong amount")), Noon);
        state = state.Apply(c!);
        Assert.Equal(("operator:olga", "wrong amount"), (Assert.IsType<VaultProposal>(cancelled).ClosedBy, ((VaultProposal)cancelled).CloseReason));
        Assert.Equal(VaultCodes.ProposalCancelled, Assert.IsType<VaultRefused>(state.Decide(new CancelProposal("vp-2", By("operator:olga")), Noon).Reply).Code);
        Approve(state, "operator:alice", true, VaultCodes.ProposalCancelled, "vp-2");
        Approve(state, "operator:alice", true, VaultCodes.ProposalExpired, "vp-1");
        Assert.Equal(VaultCodes.NotFound, Assert.IsType<VaultRefused>(state.Decide(new ApproveProposal("vp-9", true, By("operator:alice")), Noon).Reply).Code);
        Assert.Empty(state.Decide(new ApproveProposal("vp-9", true, By("operator:alice")), Noon).Events);
    }

    [Fact]
    public void A_limit_change_wins_over_the_policy_and_an_unchanged_one_writes_nothing()
    {
        var state = WithPool();
        var (view, e) = state.Decide(new SetVaultLimits(Chain, new Wei(100 * Coin), null, By("operator:admin")), Noon, Policy);
        state = state.Apply(e!);

        Assert.Equal(new VaultLimits(new Wei(100 * Coin), new Wei(4 * Coin)), state.LimitsOf(Chain, Policy));
        Assert.Equal(new Wei(100 * Coin), Assert.IsType<VaultView>(view).Chains[0].DailyLimit);
        Assert.Null(state.Decide(new SetVaultLimits(Chain, new Wei(100 * Coin), new Wei(4 * Coin), By("operator:admin")), Noon, Policy).Event);
    }

    [Fact]
    public void A_nonce_taken_by_another_transaction_sends_the_top_up_back_to_be_signed_again()
    {
        var state = WithPool();
        state = state.Apply(state.Decide(TopUp("r-1", Coin), Noon, Policy, true).Event!);
        state = state.Apply(new TopUpSigned("r-1", 3, "0xa", "0x02", Meta.System("vault", "signed", Noon)));
        state = state.Apply(new TopUpNonceLost("r-1", "0xa", Meta.System("vault", "nonce taken", Noon)));

        Assert.Equal((TopUpStatus.Accepted, null, 1), (state.TopUps["r-1"].Status, state.TopUps["r-1"].TxHash, state.TopUps["r-1"].Signatures));
    }

    private static VaultState Approve(VaultState state, string who, bool approver, string? refusal, string id = "vp-1")
    {
        var (reply, events) = state.Decide(new ApproveProposal(id, approver, By(who)), Noon.AddMinutes(1));
        if (refusal is null)
        {
            Assert.IsType<ProposalApproved>(Assert.Single(events));
            return events.Aggregate(state, (s, x) => s.Apply(x));
        }

        Assert.Equal(refusal, Assert.IsType<VaultRefused>(reply).Code);
        Assert.Equal(refusal, Assert.IsType<ProposalApprovalRefused>(Assert.Single(events)).Code);
        return events.Aggregate(state, (s, x) => s.Apply(x));
    }
}
