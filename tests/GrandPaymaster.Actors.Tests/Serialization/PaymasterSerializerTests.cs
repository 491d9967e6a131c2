using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using GrandPaymaster.Actors.Persistence;
using GrandPaymaster.Actors.Serialization;
using GrandPaymaster.Domain.Common;
using Address = GrandPaymaster.Domain.Common.Address;
using GrandPaymaster.Domain.Compliance;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Operators;
using GrandPaymaster.Domain.Fees;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Pools;
using GrandPaymaster.Domain.Timelock;
using System.Numerics;

namespace GrandPaymaster.Actors.Tests.Serialization;

public sealed class PaymasterSerializerTests : IAsyncLifetime
{
    private static readonly Meta SampleMeta = new(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero), "operator:alice", "sample", "corr-1");
    private static readonly ChainId Chain = new(31337);
    private static readonly Address Wallet = Address.Parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

    /// <summary>One sample per registered manifest; the coverage test below keeps this list complete.</summary>
    private static readonly DappId Dapp = DappId.Parse("acme-dapp");
    private static readonly QuoteId SampleQuoteId = QuoteId.New(Dapp);
    private static readonly BigInteger Huge = BigInteger.Pow(2, 255) + 12345;
    private static readonly ConversionRate VcnRate = new(FeeToken.Vcn, BigInteger.Parse("300000000000000000000000"));
    private static readonly Quote SampleQuote = new(SampleQuoteId,
        new QuoteRequest(Chain, Wallet, Address.Parse("0x" + new string('b', 40)), "0xdeadbeef", 100_000, FeeToken.Vcn),
        FeeEngine.Quote(100_000, new Wei(Huge), new Bps(2_000), new Bps(3_000), VcnRate),
        SampleMeta.At, SampleMeta.At.AddMinutes(1));
    private static readonly TokenAmount Hold = new(FeeToken.Vcn, Huge);
    private static readonly SettlementRecord SampleSettlement = new("0xabc", 50_000, new Wei(7), true, 12, SampleMeta.At, SampleMeta.At,
        FeeEngine.Settle(SampleQuote.Breakdown.MaxFee, 50_000, new Wei(7), new Bps(3_000), VcnRate));
    private static readonly Execution SampleExecution = new(SampleQuote, Hold, "key-1", "hash-1", "ref", SampleMeta.At, "0xabc", SampleMeta.At, SampleSettlement);
    private static readonly ImmutableDictionary<FeeToken, Ledger> Ledgers = ImmutableDictionary<FeeToken, Ledger>.Empty
        .Add(FeeToken.Usdt, new Ledger(10, 5, 3, 2, 1)).Add(FeeToken.Vcn, new Ledger(Huge, Huge, 0, 0, 0));
    private static readonly PoolEvents.TxSubmitted Submitted = new(Chain, SampleQuoteId, Dapp, Wallet, 7, "0xabc", "0x02f8", SampleMeta, 30, 2, Huge,
        new ForwardedCall(Wallet, Address.Parse("0x" + new string('1', 40)), 3, 1_800_000_000));
    private static readonly TxAttempt SpeedUp = new("0xdef", "0x02f9", 34, 3, AttemptKind.SpeedUp, SampleMeta.At);
    private static readonly PoolEvents.TxConfirmed Confirmed = new(Chain, SampleQuoteId, Dapp, "0xabc", 21_000, new Wei(Huge), false, 99, SampleMeta);

    private static readonly Domain.Market.GasOracleState GasState = Domain.Market.GasOracleState.Empty(31337).Next(
        [(new Domain.Market.GasReading("gas-price@a#0", Huge, SampleMeta.At), TimeSpan.FromMilliseconds(3)),
         (Domain.Market.GasReading.Failed("fee-history@a#1", SampleMeta.At, "timeout"), TimeSpan.FromMilliseconds(500))],
        SampleMeta.At, new Domain.Market.GasOraclePolicy { Ceiling = Huge }) with { MempoolPending = 12 };

    private static readonly Domain.Market.RateView Rates = Domain.Market.RateOracleState.Empty(31337).Next(
        [new Domain.Market.RateReading("configured@a#0", ImmutableDictionary<FeeToken, BigInteger>.Empty.Add(FeeToken.Vcn, Huge), SampleMeta.At),
         Domain.Market.RateReading.Failed("http@a#1", SampleMeta.At, "HTTP 503")], SampleMeta.At, TimeSpan.FromSeconds(30)).View;

    private static readonly DappPolicy SamplePolicy = new(
        ImmutableDictionary<FeeToken, TokenLimits>.Empty.Add(FeeToken.Usdt, new TokenLimits(Huge, 5_000_000, null)),
        [31337, 31338], [Wallet], 75);

    private static readonly ImmutableDictionary<FeeToken, TokenLimits> SampleLimits =
        ImmutableDictionary<FeeToken, TokenLimits>.Empty.Add(FeeToken.Vcn, new TokenLimits(null, 1_000, 10));

    private static readonly DenylistEntry SampleDenied = new(DenylistKind.Wallet, Wallet.Value, "sanctions list", "operator:alice", SampleMeta.At, null);

    private static readonly OperatorRecord SampleOperator = new("alice", [OperatorRole.Operator, OperatorRole.Viewer],
        new OperatorScope([31337], ["dapp-1"]), "ab12", SampleMeta.At, "operator:root", SampleMeta.At.AddDays(90), SampleMeta.At, "operator:root");
    private static readonly Domain.Alerts.Alert SampleAlert = new("alert-7", Domain.Alerts.AlertKinds.SafeMode, Domain.Alerts.AlertSeverity.Critical, "chain 31337",
        "SAFE_MODE: gas spike", SampleMeta.At, SampleMeta.At.AddMinutes(3), 4, Domain.Alerts.AlertState.Acknowledged, "operator:alice", SampleMeta.At.AddMinutes(1),
        TriggerPaged: true);
    private static readonly TimelockChange SampleChange = new("tl-1", "chain.disable", """{"chainId":31337}""", "chain 31337", "maintenance", "operator:alice",
        SampleMeta.At, SampleMeta.At.AddHours(24), SampleMeta.At.AddDays(8));

    private static readonly TimelockChange SampleExecutedChange = SampleChange with
    {
        Id = "tl-2", Status = TimelockStatus.Executed, ExecutedBy = "operator:carol", ExecutedAt = SampleMeta.At.AddHours(25), Result = "done", FailedAttempts = 1,
        LastError = "timeout",
    };

    /// <summary>One sample per registered manifest; the coverage test below keeps this list complete.</summary>
    private static readonly Domain.Treasury.VaultProposal SampleProposal = new("vp-1", Chain, Wallet, new Wei(Huge), "cold storage", "operator:alice",
        SampleMeta.At, SampleMeta.At.AddHours(24), 2, [new Domain.Treasury.ProposalApproval("operator:bob", SampleMeta.At, "ok")]);

    /// <summary>A vault with a pool wallet, a limit change, a signed top-up, a refused one and an executed proposal with its transfer.</summary>
    private static Domain.Treasury.VaultState SampleVaultState()
    {
        Domain.Treasury.VaultEvents.IVaultEvent[] events =
        [
            new Domain.Treasury.VaultEvents.PoolWalletRegistered(Chain, Wallet, SampleMeta),
            new Domain.Treasury.VaultEvents.VaultLimitsSet(Chain, new Wei(Huge), new Wei(Huge), SampleMeta),
            new Domain.Treasury.VaultEvents.TopUpAccepted("r-1", Chain, Wallet, new Wei(Huge), Domain.Treasury.RebalancePriority.Critical, null, SampleMeta),
            new Domain.Treasury.VaultEvents.TopUpSigned("r-1", 7, "0xabc", "0x02f8", SampleMeta),
            new Domain.Treasury.VaultEvents.TopUpRefused("r-2", Chain, Wallet, new Wei(5), "not_a_pool_wallet", "isolation", SampleMeta),
            new Domain.Treasury.VaultEvents.ProposalCreated(SampleProposal with { Approvals = [] }, SampleMeta),
            new Domain.Treasury.VaultEvents.ProposalApproved("vp-1", "operator:bob", SampleMeta),
            new Domain.Treasury.VaultEvents.ProposalExecuted("vp-1", "proposal:vp-1", SampleMeta),
        ];
        return events.Aggregate(Domain.Treasury.VaultState.Empty, (s, e) => s.Apply(e));
    }

    public static readonly TheoryData<object> Samples =
    [
        SampleOperator,
        new Domain.Treasury.VaultProtocol.TopUpRequest("r-1", Chain, Wallet, new Wei(5), Domain.Treasury.RebalancePriority.Critical, SampleMeta),
        new Domain.Treasury.VaultProtocol.GetTopUp("r-1"),
        new Domain.Treasury.VaultProtocol.TopUpSubmitted("r-1", "0xabc"),
        new Domain.Treasury.VaultProtocol.TopUpCompleted("r-1", "0xabc", new Wei(5)),
        new Domain.Treasury.VaultProtocol.TopUpFailed("r-1", "vault_rpc_down", "no endpoint answers", Retryable: true),
        new Domain.Treasury.VaultProtocol.TopUpUnknown("r-1"),
        new Domain.Treasury.OrchestratorProtocol.BalanceObserved(Chain, Wallet, new Wei(Huge), SampleMeta.At, Domain.Treasury.RebalancePriority.Warning),
        new Domain.Treasury.OrchestratorProtocol.PoolBalanceChanged(Chain),
        Domain.Treasury.OrchestratorProtocol.GetTreasury.Instance,
        SampleTreasuryView(),
        new Domain.Treasury.OrchestratorProtocol.TopUpQueued("need-1", Chain, Wallet, Domain.Treasury.RebalancePriority.Normal, new Wei(Huge), new Wei(3), SampleMeta),
        new Domain.Treasury.OrchestratorProtocol.TopUpSuperseded("need-1", "need-2", Domain.Treasury.RebalancePriority.Critical, new Wei(Huge), new Wei(1), SampleMeta),
        new Domain.Treasury.OrchestratorProtocol.TopUpCancelled("need-2", SampleMeta),
        new Domain.Treasury.OrchestratorProtocol.TopUpStarted("need-2", "need-2.1", new Wei(Huge), 1, SampleMeta),
        new Domain.Treasury.OrchestratorProtocol.TopUpBroadcast("need-2", "need-2.1", "0xabc", SampleMeta),
        new Domain.Treasury.OrchestratorProtocol.TopUpSucceeded("need-2", "need-2.1", "0xabc", new Wei(Huge), SampleMeta),
        new Domain.Treasury.OrchestratorProtocol.TopUpFailed("need-2", "need-2.1", "vault_rpc_down", "no endpoint answers", true, 3, SampleMeta.At.AddSeconds(8), SampleMeta),
        new Domain.Treasury.OrchestratorProtocol.TopUpEscalated(Chain, "topup_failing:chain 31337", "failed 3 times", SampleMeta),
        new Domain.Treasury.OrchestratorProtocol.TopUpRecovered(Chain, SampleMeta),
        new Domain.Treasury.OrchestratorProtocol.PageSent(Chain, "trigger", "topup_failing:chain 31337", SampleMeta),
        SampleOrchestratorState(),
        new Domain.Treasury.VaultProtocol.RegisterPoolWallet(Chain, Wallet, SampleMeta),
        new Domain.Treasury.VaultProtocol.PoolWalletRegistration(Chain, Wallet, true),
        new Domain.Treasury.VaultProtocol.ProposeTransfer(Chain, Wallet, new Wei(Huge), SampleMeta),
        new Domain.Treasury.VaultProtocol.ApproveProposal("vp-1", true, SampleMeta),
        new Domain.Treasury.VaultProtocol.CancelProposal("vp-1", SampleMeta),
        new Domain.Treasury.VaultProtocol.GetProposals(Domain.Treasury.ProposalStatus.Open),
        new Domain.Treasury.VaultProtocol.ProposalList([SampleProposal]),
        new Domain.Treasury.VaultProtocol.SetVaultLimits(Chain, new Wei(Huge), null, SampleMeta),
        new Domain.Treasury.VaultProtocol.GetVault(),
        new Domain.Treasury.VaultProtocol.VaultView([new Domain.Treasury.VaultProtocol.VaultChainView(Chain, Wallet, new Wei(Huge), new Wei(5), new Wei(3),
            new DateOnly(2026, 11, 24), [Wallet], 2)]),
        new Domain.Treasury.VaultProtocol.VaultRefused(Domain.Treasury.VaultCodes.ProposerCannotApprove, "no"),
        SampleProposal,
        SampleVaultState(),
        new Domain.Treasury.VaultEvents.PoolWalletRegistered(Chain, Wallet, SampleMeta),
        new Domain.Treasury.VaultEvents.TopUpAccepted("r-1", Chain, Wallet, new Wei(Huge), Domain.Treasury.RebalancePriority.Warning, "vp-1", SampleMeta),
        new Domain.Treasury.VaultEvents.TopUpRefused("r-2", Chain, Wallet, new Wei(5), "not_a_pool_wallet", "isolation", SampleMeta),
        new Domain.Treasury.VaultEvents.TopUpSigned("r-1", Huge, "0xabc", "0x02f8", SampleMeta),
        new Domain.Treasury.VaultEvents.TopUpNonceLost("r-1", "0xabc", SampleMeta),
        new Domain.Treasury.VaultEvents.TopUpCompleted("r-1", "0xabc", 12, SampleMeta),
        new Domain.Treasury.VaultEvents.TopUpFailed("r-1", "vault_rpc_down", "down", true, SampleMeta),
        new Domain.Treasury.VaultEvents.ProposalCreated(SampleProposal, SampleMeta),
        new Domain.Treasury.VaultEvents.ProposalApproved("vp-1", "operator:bob", SampleMeta),
        new Domain.Treasury.VaultEvents.ProposalApprovalRefused("vp-1", "proposer_cannot_approve", SampleMeta),
        new Domain.Treasury.VaultEvents.ProposalExecuted("vp-1", "proposal:vp-1", SampleMeta),
        new Domain.Treasury.VaultEvents.ProposalCancelled("vp-1", SampleMeta),
        new Domain.Treasury.VaultEvents.ProposalExpired("vp-1", SampleMeta),
        new Domain.Treasury.VaultEvents.VaultLimitsSet(Chain, new Wei(Huge), new Wei(5), SampleMeta),
        OperatorRegistryState.Empty.Apply(new OperatorProtocol.OperatorCreated(SampleOperator with { RevokedAt = null, RevokedBy = null }, SampleMeta)),
        new OperatorProtocol.CreateOperator("bob", [OperatorRole.Admin], OperatorScope.Everything, "cd34", SampleMeta.At.AddDays(1), SampleMeta, ByBootstrap: true),
        new OperatorProtocol.GrantRoles("bob", [OperatorRole.Approver], SampleMeta),
        new OperatorProtocol.RevokeOperator("bob", SampleMeta),
        new OperatorProtocol.Authenticate("cd34"),
        new OperatorProtocol.RecordRefusal("bob", "POST", "/admin/v1/pools/{chainId}/pause", "forbidden", "needs operator", SampleMeta),
        new OperatorProtocol.RecordAction("cluster.leave", "akka.tcp://gpm@127.0.0.1:4053", SampleMeta),
        OperatorProtocol.ListOperators.Instance,
        new OperatorProtocol.Authenticated(SampleOperator, BootstrapOpen: false),
        new OperatorProtocol.Operators([SampleOperator]),
        new OperatorProtocol.OperatorAnswer(null, new Rejection("last_admin", "no")),
        OperatorProtocol.Recorded.Instance,
        new OperatorProtocol.OperatorCreated(SampleOperator, SampleMeta),
        new OperatorProtocol.RolesGranted("alice", [OperatorRole.Approver], SampleMeta),
        new OperatorProtocol.OperatorRevoked("alice", SampleMeta),
        new OperatorProtocol.AccessRefused("alice", "GET", "/admin/v1/operators", "forbidden", "needs admin", SampleMeta),
        new OperatorProtocol.OperatorActed("cluster.down", "akka.tcp://gpm@127.0.0.1:4054", SampleMeta),
        new OperatorProtocol.RotateToken("alice", "ef56", SampleMeta.At.AddDays(30), SampleMeta),
        new OperatorProtocol.TokenRotated("alice", "ef56", SampleMeta.At.AddDays(30), SampleMeta),
        SampleAlert,
        Domain.Alerts.AlertsState.Empty.Apply(new Domain.Alerts.AlertProtocol.AlertRaised(SampleAlert, SampleMeta), new Domain.Alerts.AlertLimits())
            .Apply(new Domain.Alerts.AlertProtocol.AlertRaised(SampleAlert with { Id = "alert-8", Subject = "chain 1" }, SampleMeta), new Domain.Alerts.AlertLimits())
            .Apply(new Domain.Alerts.AlertProtocol.AlertResolved("alert-8", 2, SampleMeta.At, SampleMeta), new Domain.Alerts.AlertLimits()),
        new Domain.Alerts.AlertProtocol.RaiseAlert(Domain.Alerts.AlertKinds.TopUpFailing, Domain.Alerts.AlertSeverity.Critical, "chain 31337", "vault RPC down", SampleMeta),
        new Domain.Alerts.AlertProtocol.ResolveAlert(Domain.Alerts.AlertKinds.TopUpFailing, "chain 31337", SampleMeta),
        new Domain.Alerts.AlertProtocol.AcknowledgeAlert("alert-7", SampleMeta),
        new Domain.Alerts.AlertProtocol.GetAlerts(Domain.Alerts.AlertState.Open),
        new Domain.Alerts.AlertProtocol.AlertList([SampleAlert]),
        new Domain.Alerts.AlertProtocol.NoAlert("alert_not_found", "no such alert"),
        new Domain.Alerts.AlertProtocol.AlertChanged(SampleAlert, "ack"),
        new Domain.Alerts.AlertProtocol.AlertRaised(SampleAlert, SampleMeta),
        new Domain.Alerts.AlertProtocol.AlertRepeated("alert-7", 9, SampleMeta.At, "again", SampleMeta),
        new Domain.Alerts.AlertProtocol.AlertAcknowledged("alert-7", 9, SampleMeta.At, SampleMeta),
        new Domain.Alerts.AlertProtocol.AlertResolved("alert-7", 9, SampleMeta.At, SampleMeta),
        new Domain.Alerts.AlertProtocol.AlertPaged("alert-7", Domain.Alerts.PageActions.Trigger, SampleMeta),
        GasState,
        Rates,
        new PoolCommands.RegisterWorkerWallet(Chain, Wallet, SampleMeta),
        new PoolCommands.GetPoolState(Chain),
        new PoolCommands.GetPoolSummary(Chain),
        new PoolReplies.PoolSummary(Chain, 3, SampleMeta.At, 1, 0, 2, 2),
        new PoolCommands.RelayTransaction(Chain, SampleQuoteId, Dapp, Wallet, "0x", 21_000, new Wei(Huge), new Wei(30),
            new ForwardedCall(Wallet, Address.Parse("0x" + new string('1', 40)), Huge, 1_800_000_000, Simulated: true)),
        new PoolCommands.SetPoolMode(Chain, PoolMode.Paused, SampleMeta),
        new PoolCommands.SetPoolMode(Chain, PoolMode.Normal, SampleMeta, PoolMode.Disabled, SampleMeta.At.AddHours(-2)),
        PoolState.Empty(Chain).Apply(new PoolEvents.PoolModeChanged(Chain, PoolMode.Disabled, PauseCause.None, SampleMeta)), // with its disable time
        new PoolCommands.ObserveMarket(Chain, 50_000_000_000, 11_000_000_000, 3_100, 12, SampleMeta.At),
        new PoolModeView(Chain, PoolMode.Paused, PauseCause.Auto, "every RPC endpoint is down", SampleMeta.At),
        new PoolEvents.TxReplaced(Chain, SampleQuoteId, SpeedUp, SampleMeta),
        new PoolEvents.TxDropped(Chain, SampleQuoteId, "cancelled", SampleMeta, "0xdef", Huge),
        new PoolEvents.PoolModeChanged(Chain, PoolMode.Paused, PauseCause.Manual, SampleMeta),
        new PoolEvents.NonceGapFound(Chain, Wallet, [4, 5], SampleMeta),
        new PoolEvents.GapFillSubmitted(Chain, Wallet, 4, SpeedUp with { Kind = AttemptKind.GapFill }, SampleMeta),
        new PoolEvents.GapFilled(Chain, Wallet, 4, SampleMeta, 21_000),
        new PoolEvents.RelayRefused(Chain, SampleQuoteId, Dapp, "nonce_stale: an earlier request failed", SampleMeta, RejectionCodes.NonceStale),
        new DappCommands.RelayReplaced(Dapp, SampleQuoteId, "0xdef", "SpeedUp"),
        new DappEvents.RelayAttemptAdded(Dapp, SampleQuoteId, "0xdef", "SpeedUp", SampleMeta),
        new PoolReplies.WorkerWalletRegistration(Chain, Wallet, Added: true),
        new PoolEvents.WorkerWalletRegistered(Chain, Wallet, SampleMeta),
        Submitted,
        new PoolEvents.TxBroadcastFailed(Chain, SampleQuoteId, "0xabc", Wallet, 7, "nonce too low", SampleMeta),
        Confirmed,
        new PoolEvents.SettlementsAcknowledged(Chain, [SampleQuoteId, QuoteId.New(Dapp)], SampleMeta),
        SamplePoolState(),
        new DappCommands.Register(Dapp, "Acme", "hash", new Bps(2_500), SampleMeta),
        new DappCommands.Deposit(Dapp, Hold, "wire-1", SampleMeta),
        new DappCommands.GetDapp(Dapp),
        new DappCommands.RequestQuote(Dapp, "hash", SampleQuote.Request, new MarketInputs(new Wei(5), new Bps(2_000), VcnRate),
            new ForwardInputs(Wallet, Huge, 90_000)),
        new DappCommands.ExecuteQuote(Dapp, "hash", SampleQuoteId, "key-1", "req-hash", null, "0x" + new string('a', 130), Simulated: true),
        new DappCommands.SetDirectCall(Dapp, new DirectCallTarget(Chain, Wallet), true, SampleMeta),
        new DappEvents.DirectCallAllowed(Dapp, new DirectCallTarget(Chain, Wallet), SampleMeta),
        new DappEvents.DirectCallRevoked(Dapp, new DirectCallTarget(Chain, Wallet), SampleMeta),
        new DappCommands.GetQuoteStatus(Dapp, "hash", SampleQuoteId),
        new DappCommands.GetBalances(Dapp, "hash"),
        new DappCommands.RelaySucceeded(Dapp, SampleQuoteId, "0xabc", Wallet, 7),
        new DappCommands.RelayFailed(Dapp, SampleQuoteId, "refused", RejectionCodes.RequestExpired),
        new DappCommands.SettleFee(Dapp, SampleQuoteId, Chain, "0xabc", 21_000, new Wei(Huge), true, 5, SampleMeta.At),
        new DappReplies.Rejected(new Rejection("quote_expired", "too late")),
        new DappReplies.Registered(Dapp),
        new DappReplies.Balances(Dapp, Ledgers),
        new DappReplies.DappView(Dapp, "Acme", new Bps(3_000), SampleMeta.At, Ledgers, 2, [new DirectCallTarget(Chain, Wallet)]),
        new DappReplies.QuoteIssued(SampleQuote with { Forward = new ForwardTerms(Wallet, Huge, 1_800_000_000, 90_000) }),
        new DappReplies.ExecutionAccepted(SampleQuoteId, "0xabc"),
        new DappReplies.QuoteStatus(SampleQuote, SampleExecution),
        new DappReplies.SettleAck(Chain, SampleQuoteId),
        new DappEvents.DappRegistered(Dapp, "Acme", "hash", new Bps(5_000), SampleMeta),
        new DappEvents.FundsDeposited(Dapp, Hold, "wire-1", SampleMeta),
        new DappEvents.FeeQuoted(Dapp, SampleQuote, SampleMeta),
        new DappEvents.FeeDeducted(Dapp, SampleQuoteId, Hold, "key-1", "req-hash", "ref", SampleMeta, "0x" + new string('b', 130)),
        new DappEvents.RelaySubmitted(Dapp, SampleQuoteId, "0xabc", Wallet, 7, SampleMeta),
        new DappEvents.FeeReleased(Dapp, SampleQuoteId, Hold, "refused", SampleMeta),
        new DappEvents.FeeSettled(Dapp, SampleQuoteId, SampleSettlement, SampleMeta),
        new DappCommands.SetPolicy(Dapp, SamplePolicy, new Bps(2_500), SampleMeta),
        new DappCommands.SetPolicy(Dapp, SamplePolicy, null, SampleMeta),
        new DappCommands.SetPolicy(Dapp, null, new Bps(2_500), SampleMeta),
        new DappCommands.SetOwnLimits(Dapp, "hash", SampleLimits, SampleMeta),
        new DappCommands.GetPolicy(Dapp, null),
        new DappCommands.FreezeDapp(Dapp, "unexecuted-quotes", "600 quotes, 0 executions", SampleMeta),
        new DappCommands.UnfreezeDapp(Dapp, SampleMeta),
        new DappCommands.RotateApiKey(Dapp, "hash-2", SampleMeta),
        new DappCommands.ReportThrottle(Dapp, true, "token bucket empty", SampleMeta.At.AddSeconds(30), SampleMeta),
        new DappCommands.ReportRefusal(Dapp, RejectionCodes.SimulationReverted),
        new DappReplies.PolicyView(Dapp, SamplePolicy, new Bps(2_500), SampleLimits, SampleLimits, new DateOnly(2026, 11, 25),
            ImmutableDictionary<FeeToken, BigInteger>.Empty.Add(FeeToken.Usdt, Huge)),
        new DappEvents.PolicySet(Dapp, SamplePolicy, new Bps(2_500), SampleMeta),
        new DappEvents.OwnLimitsSet(Dapp, SampleLimits, SampleMeta),
        new DappEvents.DappFrozen(Dapp, "fresh-senders", "400 never-seen senders", SampleMeta),
        new DappEvents.DappUnfrozen(Dapp, SampleMeta),
        new DappEvents.ApiKeyRotated(Dapp, "hash-2", SampleMeta),
        new DappEvents.DappThrottled(Dapp, "surge", SampleMeta.At.AddSeconds(30), SampleMeta),
        new DappEvents.DappThrottleLifted(Dapp, SampleMeta),
        new DenylistProtocol.AddEntry(DenylistKind.Wallet, Wallet.Value, SampleMeta.At.AddHours(1), SampleMeta),
        new DenylistProtocol.RemoveEntry(DenylistKind.Target, Wallet.Value, SampleMeta),
        DenylistProtocol.GetEntries.Instance,
        new GrandPaymaster.Actors.Dapps.DirectoryEntry(Dapp, "hash", true, 40, 7),
        new PoolCommands.PausePool(Chain, SampleMeta),
        new PoolCommands.ResumePool(Chain, SampleMeta),
        new TimelockProtocol.ScheduleChange("chain.disable", """{"chainId":31337}""", "chain 31337", SampleMeta),
        new TimelockProtocol.CancelChange("tl-1", SampleMeta),
        new TimelockProtocol.ClaimExecution("tl-1", SampleMeta),
        new TimelockProtocol.CompleteExecution("tl-1", "the pool of chain 31337 is disabled", SampleMeta),
        new TimelockProtocol.FailExecution("tl-1", "the pool did not answer", SampleMeta),
        new TimelockProtocol.GetChanges(TimelockStatus.Executed),
        new TimelockProtocol.Changes([SampleChange, SampleExecutedChange]),
        new TimelockProtocol.Refused(TimelockCodes.NotReady, "too early", SampleMeta.At.AddHours(24)),
        SampleExecutedChange,
        new TimelockProtocol.ChangeScheduled(SampleChange, SampleMeta),
        new TimelockProtocol.ChangeCancelled("tl-1", SampleMeta),
        new TimelockProtocol.ChangeExecuted("tl-1", "chain.disable", "operator:alice", "the pool of chain 31337 is disabled", SampleMeta),
        new TimelockProtocol.ExecutionFailed("tl-1", "the pool did not answer", SampleMeta),
        new TimelockProtocol.ChangeExpired("tl-1", SampleMeta),
        SampleTimelockState(),
        new DenylistProtocol.Entries([SampleDenied]),
        SampleDenied,
        new DenylistProtocol.EntryAdded(SampleDenied, SampleMeta),
        new DenylistProtocol.EntryRemoved(DenylistKind.Dapp, Dapp.Value, SampleMeta),
        DenylistState.Empty.Apply(new DenylistProtocol.EntryAdded(SampleDenied, SampleMeta)),
        new DappState(Dapp, new DappProfile("Acme", "hash", new Bps(3_000), SampleMeta.At), Ledgers,
            ImmutableDictionary<QuoteId, Execution>.Empty.Add(SampleQuoteId, SampleExecution),
            ImmutableDictionary<string, QuoteId>.Empty.Add("key-1", SampleQuoteId), [SampleQuoteId],
            ImmutableDictionary<string, TokenAmount?>.Empty.Add("wire-1", Hold).Add("wire-0", null))
        {
            DirectCalls = [new DirectCallTarget(Chain, Wallet)],
            Policy = SamplePolicy,
            OwnLimits = SampleLimits,
            Spend = DailySpend.None.Add(new DateOnly(2026, 11, 25), FeeToken.Usdt, Wallet, Huge),
            Frozen = new Freeze("high-value-quotes", "30 quotes", SampleMeta.At),
            ThrottledUntil = SampleMeta.At,
        },
    ];

    private static Domain.Treasury.WalletThresholds SampleThresholds => new(new Wei(1), new Wei(2), new Wei(Huge), new Wei(Huge + 1), new Wei(1));

    /// <summary>A queue with a failing need in backoff, one in flight with its broadcast, and a paged escalation.</summary>
    private static Domain.Treasury.OrchestratorState SampleOrchestratorState() => Domain.Treasury.OrchestratorState.Empty
        .Apply(new Domain.Treasury.OrchestratorProtocol.TopUpQueued("need-1", Chain, Wallet, Domain.Treasury.RebalancePriority.Normal, new Wei(Huge), new Wei(3), SampleMeta))
        .Apply(new Domain.Treasury.OrchestratorProtocol.TopUpQueued("need-2", new ChainId(31338), Wallet, Domain.Treasury.RebalancePriority.Critical, new Wei(5), new Wei(3), SampleMeta))
        .Apply(new Domain.Treasury.OrchestratorProtocol.TopUpStarted("need-1", "need-1.1", new Wei(Huge), 1, SampleMeta))
        .Apply(new Domain.Treasury.OrchestratorProtocol.TopUpFailed("need-1", "need-1.1", "vault_rpc_down", "down", true, 3, SampleMeta.At.AddSeconds(8), SampleMeta))
        .Apply(new Domain.Treasury.OrchestratorProtocol.TopUpEscalated(Chain, "topup_failing:chain 31337", "failed 3 times", SampleMeta))
        .Apply(new Domain.Treasury.OrchestratorProtocol.PageSent(Chain, "trigger", "topup_failing:chain 31337", SampleMeta))
        .Apply(new Domain.Treasury.OrchestratorProtocol.TopUpStarted("need-2", "need-2.1", new Wei(5), 1, SampleMeta))
        .Apply(new Domain.Treasury.OrchestratorProtocol.TopUpBroadcast("need-2", "need-2.1", "0xabc", SampleMeta));

    private static Domain.Treasury.OrchestratorProtocol.TreasuryView SampleTreasuryView()
    {
        var book = Domain.Treasury.SpendBook.Empty
            .Observe(Chain, Wallet, new Domain.Treasury.BalanceSample(SampleMeta.At, new Wei(Huge)), TimeSpan.FromHours(1), 10)
            .Observe(Chain, Wallet, new Domain.Treasury.BalanceSample(SampleMeta.At.AddMinutes(1), new Wei(Huge - 1_000_000)), TimeSpan.FromHours(1), 10);
        var settings = new Domain.Treasury.TreasurySettings { Thresholds = SampleThresholds };
        return Domain.Treasury.TreasuryViews.Build(SampleOrchestratorState(), book, settings, SampleMeta.At, vaultConnected: true);
    }

    /// <summary>A timelock with a scheduled, a cancelled and an executed change.</summary>
    private static TimelockState SampleTimelockState() => TimelockState.Empty
        .Apply(new TimelockProtocol.ChangeScheduled(SampleChange, SampleMeta))
        .Apply(new TimelockProtocol.ChangeScheduled(SampleChange with { Id = "tl-2" }, SampleMeta))
        .Apply(new TimelockProtocol.ChangeScheduled(SampleChange with { Id = "tl-3", Kind = "dapp.surcharge" }, SampleMeta))
        .Apply(new TimelockProtocol.ChangeCancelled("tl-2", SampleMeta))
        .Apply(new TimelockProtocol.ExecutionFailed("tl-3", "timeout", SampleMeta))
        .Apply(new TimelockProtocol.ChangeExecuted("tl-3", "dapp.surcharge", "operator:alice", "done", SampleMeta));

    /// <summary>A pool with a worker, a pending transaction with a speed-up, a confirmed one, a release, free nonces and a gap fill.</summary>
    private static PoolState SamplePoolState()
    {
        var other = QuoteId.New(Dapp);
        var state = PoolState.Empty(Chain).Apply(new PoolEvents.WorkerWalletRegistered(Chain, Wallet, SampleMeta))
            .Apply(Submitted).Apply(new PoolEvents.TxReplaced(Chain, SampleQuoteId, SpeedUp, SampleMeta))
            .Apply(Submitted with { QuoteId = other, Nonce = 8, TxHash = "0x123" }).Apply(Confirmed with { QuoteId = other, TxHash = "0x123" })
            .Apply(new PoolEvents.SettlementsAcknowledged(Chain, [other], SampleMeta))
            .Apply(Submitted with { QuoteId = QuoteId.New(Dapp), Nonce = 9, TxHash = "0x456" })
            .Apply(new PoolEvents.NonceGapFound(Chain, Wallet, [3], SampleMeta))
            .Apply(new PoolEvents.GapFillSubmitted(Chain, Wallet, 2, SpeedUp with { TxHash = "0x789", Kind = AttemptKind.GapFill }, SampleMeta))
            .Apply(new PoolEvents.PoolModeChanged(Chain, PoolMode.Paused, PauseCause.Auto, SampleMeta))
            .Apply(new PoolEvents.PoolModeChanged(Chain, PoolMode.Paused, PauseCause.Manual, SampleMeta)); // remembers the pool's own pause
        return state.Apply(new PoolEvents.TxBroadcastFailed(Chain, state.Txs.Keys.Single(q => state.Txs[q].Nonce == 9), "0x456", Wallet, 9, "refused", SampleMeta));
    }

    private readonly ActorSystem _system = ActorSystem.Create("serializer-tests",
        ConfigurationFactory.ParseString("akka.actor.provider = local").WithFallback(PersistenceHocon.Load("akka.hocon")));

    [Theory]
    [MemberData(nameof(Samples))]
    public void Every_registered_message_round_trips_through_the_bound_serializer(object message)
    {
        var serializer = _system.Serialization.FindSerializerFor(message);
        Assert.IsType<PaymasterSerializer>(serializer);

        var manifest = Assert.IsType<PaymasterSerializer>(serializer).Manifest(message);
        var copy = ((SerializerWithStringManifest)serializer).FromBinary(serializer.ToBinary(message), manifest);

        // Compared through a second serialization: immutable dictionaries compare by reference.
        Assert.Equal(message.GetType(), copy.GetType());
        Assert.Equal(Json(message), Json(copy));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public async Task Every_registered_message_passes_akkas_serialize_messages_check_between_actors(object message)
    {
        // With serialize-messages on, Akka serializes and deserializes every message it delivers, as if
        // it crossed a node boundary; a message that does not survive that fails here.
        using var kit = new Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("""
            akka.actor.provider = local
            akka.actor.serialize-messages = on
            """).WithFallback(PersistenceHocon.Load("akka.hocon")));
        var echo = kit.Sys.ActorOf(Props.Create(() => new EchoActor()));

        var answer = await echo.Ask<object>(message, TimeSpan.FromSeconds(10));

        Assert.Equal(Json(message), Json(answer));
        Assert.NotSame(message, answer);
    }

    [Fact]
    public void The_samples_cover_every_registered_manifest()
    {
        var sampled = ((IEnumerable<object[]>)Samples).Select(row => row[0].GetType()).ToHashSet();
        var missing = MessageManifests.ManifestByType.Keys.Where(t => !sampled.Contains(t)).Select(t => t.Name).ToArray();
        Assert.Empty(missing);
    }

    [Fact]
    public void Every_paymaster_message_type_has_a_manifest()
    {
        var messageTypes = typeof(PoolState).Assembly.GetTypes()
            .Where(t => typeof(IPaymasterMessage).IsAssignableFrom(t) && t is { IsInterface: false, IsAbstract: false });
        Assert.All(messageTypes, t => Assert.True(MessageManifests.ManifestByType.ContainsKey(t), $"{t.FullName} has no manifest"));
    }

    [Fact]
    public void An_unknown_manifest_fails_loudly()
    {
        var serializer = new PaymasterSerializer((ExtendedActorSystem)_system);
        var error = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary("{}"u8.ToArray(), "no.such.manifest"));
        Assert.Contains("no.such.manifest", error.Message);
    }

    [Fact]
    public void A_type_without_a_manifest_is_refused_instead_of_written()
    {
        var serializer = new PaymasterSerializer((ExtendedActorSystem)_system);
        Assert.Throws<ArgumentException>(() => serializer.ToBinary(new UnregisteredMessage()));
    }

    [Fact]
    public void Quantities_beyond_double_precision_survive_as_exact_decimal_strings()
    {
        var max = System.Numerics.BigInteger.Pow(2, 256) - 1;
        var json = System.Text.Json.JsonSerializer.Serialize(max, PaymasterSerializer.Options);
        Assert.Equal($"\"{max}\"", json);
        Assert.Equal(max, System.Text.Json.JsonSerializer.Deserialize<System.Numerics.BigInteger>(json, PaymasterSerializer.Options));
    }

    [Fact]
    public void A_dapp_snapshot_remembers_what_each_deposit_reference_credited()
    {
        var state = DappState.Empty(Dapp) with
        {
            DepositReferences = ImmutableDictionary<string, TokenAmount?>.Empty.Add("wire-1", new TokenAmount(FeeToken.Usdt, Huge)),
        };
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerFor(state);

        var copy = (DappState)serializer.FromBinary(serializer.ToBinary(state), serializer.Manifest(state));

        Assert.Equal(new TokenAmount(FeeToken.Usdt, Huge), copy.DepositReferences["wire-1"]);
    }

    [Fact]
    public void A_dapp_snapshot_from_before_amounts_were_kept_still_reads_with_its_references()
    {
        var current = Json(DappState.Empty(Dapp));
        var legacy = current.Replace("\"DepositReferences\":{}", "\"DepositReferences\":[\"wire-1\",\"wire-2\"]", StringComparison.Ordinal);
        Assert.NotEqual(current, legacy);
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerFor(DappState.Empty(Dapp));

        var state = (DappState)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(legacy), serializer.Manifest(DappState.Empty(Dapp)));

        Assert.Equal(["wire-1", "wire-2"], state.DepositReferences.Keys.Order());
        Assert.All(state.DepositReferences.Values, amount => Assert.Null(amount));
    }

    private static string Json(object message) => System.Text.Json.JsonSerializer.Serialize(message, message.GetType(), PaymasterSerializer.Options);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _system.Terminate();

    private sealed record UnregisteredMessage : IPaymasterMessage;

    private sealed class EchoActor : ReceiveActor
    {
        public EchoActor() => ReceiveAny(message => Sender.Tell(message));
    }
}
