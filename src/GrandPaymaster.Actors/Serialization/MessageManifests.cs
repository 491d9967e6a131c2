using System.Collections.Frozen;
using GrandPaymaster.Domain.Compliance;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Pools;

namespace GrandPaymaster.Actors.Serialization;

/// <summary>
/// The one table of short, stable manifests. A manifest is written into every journal row, so an
/// entry may be added but never renamed or reused: old rows must keep deserializing.
/// </summary>
public static class MessageManifests
{
    private static readonly (string Manifest, Type Type)[] Entries =
    [
        ("pool.cmd.register-worker", typeof(PoolCommands.RegisterWorkerWallet)),
        ("pool.cmd.get-state", typeof(PoolCommands.GetPoolState)),
        ("pool.reply.worker-registration", typeof(PoolReplies.WorkerWalletRegistration)),
        ("pool.evt.worker-registered", typeof(PoolEvents.WorkerWalletRegistered)),
        ("pool.state", typeof(PoolState)),
        ("pool.cmd.relay", typeof(PoolCommands.RelayTransaction)),
        ("pool.evt.tx-submitted", typeof(PoolEvents.TxSubmitted)),
        ("pool.evt.tx-broadcast-failed", typeof(PoolEvents.TxBroadcastFailed)),
        ("pool.evt.tx-confirmed", typeof(PoolEvents.TxConfirmed)),
        ("pool.evt.settlements-acked", typeof(PoolEvents.SettlementsAcknowledged)),
        ("pool.evt.tx-replaced", typeof(PoolEvents.TxReplaced)),
        ("pool.evt.tx-dropped", typeof(PoolEvents.TxDropped)),
        ("pool.evt.mode-changed", typeof(PoolEvents.PoolModeChanged)),
        ("pool.evt.nonce-gap-found", typeof(PoolEvents.NonceGapFound)),
        ("pool.evt.gap-fill-submitted", typeof(PoolEvents.GapFillSubmitted)),
        ("pool.evt.gap-filled", typeof(PoolEvents.GapFilled)),
        ("pool.evt.relay-refused", typeof(PoolEvents.RelayRefused)),
        ("pool.cmd.set-mode", typeof(PoolCommands.SetPoolMode)),
        ("pool.cmd.observe-market", typeof(PoolCommands.ObserveMarket)),
        ("pool.mode", typeof(PoolModeView)),
        ("market.gas", typeof(Domain.Market.GasOracleState)),
        ("market.rates", typeof(Domain.Market.RateView)),
        ("dapp.cmd.register", typeof(DappCommands.Register)),
        ("dapp.cmd.deposit", typeof(DappCommands.Deposit)),
        ("dapp.cmd.get", typeof(DappCommands.GetDapp)),
        ("dapp.cmd.quote", typeof(DappCommands.RequestQuote)),
        ("dapp.cmd.execute", typeof(DappCommands.ExecuteQuote)),
        ("dapp.cmd.quote-status", typeof(DappCommands.GetQuoteStatus)),
        ("dapp.cmd.balances", typeof(DappCommands.GetBalances)),
        ("dapp.cmd.relay-succeeded", typeof(DappCommands.RelaySucceeded)),
        ("dapp.cmd.relay-failed", typeof(DappCommands.RelayFailed)),
        ("dapp.cmd.settle", typeof(DappCommands.SettleFee)),
        ("dapp.cmd.relay-replaced", typeof(DappCommands.RelayReplaced)),
        ("dapp.evt.relay-attempt-added", typeof(DappEvents.RelayAttemptAdded)),
        ("dapp.reply.rejected", typeof(DappReplies.Rejected)),
        ("dapp.reply.registered", typeof(DappReplies.Registered)),
        ("dapp.reply.balances", typeof(DappReplies.Balances)),
        ("dapp.reply.view", typeof(DappReplies.DappView)),
        ("dapp.reply.quote-issued", typeof(DappReplies.QuoteIssued)),
        ("dapp.reply.execution-accepted", typeof(DappReplies.ExecutionAccepted)),
        ("dapp.reply.quote-status", typeof(DappReplies.QuoteStatus)),
        ("dapp.reply.settle-ack", typeof(DappReplies.SettleAck)),
        ("dapp.evt.registered", typeof(DappEvents.DappRegistered)),
        ("dapp.evt.deposited", typeof(DappEvents.FundsDeposited)),
        ("dapp.evt.fee-quoted", typeof(DappEvents.FeeQuoted)),
        ("dapp.evt.fee-deducted", typeof(DappEvents.FeeDeducted)),
        ("dapp.evt.relay-submitted", typeof(DappEvents.RelaySubmitted)),
        ("dapp.evt.fee-released", typeof(DappEvents.FeeReleased)),
        ("dapp.evt.fee-settled", typeof(DappEvents.FeeSettled)),
        ("pool.cmd.get-summary", typeof(PoolCommands.GetPoolSummary)),
        ("pool.reply.summary", typeof(PoolReplies.PoolSummary)),
        ("dapp.state", typeof(DappState)),
        ("dapp.cmd.set-direct-call", typeof(DappCommands.SetDirectCall)),
        ("dapp.evt.direct-call-allowed", typeof(DappEvents.DirectCallAllowed)),
        ("dapp.evt.direct-call-revoked", typeof(DappEvents.DirectCallRevoked)),
        ("dapp.cmd.set-policy", typeof(DappCommands.SetPolicy)),
        ("dapp.cmd.set-own-limits", typeof(DappCommands.SetOwnLimits)),
        ("dapp.cmd.get-policy", typeof(DappCommands.GetPolicy)),
        ("dapp.cmd.freeze", typeof(DappCommands.FreezeDapp)),
        ("dapp.cmd.unfreeze", typeof(DappCommands.UnfreezeDapp)),
        ("dapp.cmd.rotate-key", typeof(DappCommands.RotateApiKey)),
        ("dapp.cmd.report-throttle", typeof(DappCommands.ReportThrottle)),
        ("dapp.cmd.report-refusal", typeof(DappCommands.ReportRefusal)),
        ("dapp.reply.policy", typeof(DappReplies.PolicyView)),
        ("dapp.evt.policy-set", typeof(DappEvents.PolicySet)),
        ("dapp.evt.own-limits-set", typeof(DappEvents.OwnLimitsSet)),
        ("dapp.evt.frozen", typeof(DappEvents.DappFrozen)),
        ("dapp.evt.unfrozen", typeof(DappEvents.DappUnfrozen)),
        ("dapp.evt.key-rotated", typeof(DappEvents.ApiKeyRotated)),
        ("dapp.evt.throttled", typeof(DappEvents.DappThrottled)),
        ("dapp.evt.throttle-lifted", typeof(DappEvents.DappThrottleLifted)),
        ("denylist.cmd.add", typeof(DenylistProtocol.AddEntry)),
        ("denylist.cmd.remove", typeof(DenylistProtocol.RemoveEntry)),
        ("denylist.cmd.get", typeof(DenylistProtocol.GetEntries)),
        ("denylist.reply.entries", typeof(DenylistProtocol.Entries)),
        ("denylist.entry", typeof(DenylistEntry)),
        ("denylist.evt.added", typeof(DenylistProtocol.EntryAdded)),
        ("denylist.evt.removed", typeof(DenylistProtocol.EntryRemoved)),
        ("denylist.state", typeof(DenylistState)),
        ("dapp.directory-entry", typeof(GrandPaymaster.Actors.Dapps.DirectoryEntry)),
        // Issue 10, timelock and circuit breaker.
        ("pool.cmd.pause", typeof(PoolCommands.PausePool)),
        ("pool.cmd.resume", typeof(PoolCommands.ResumePool)),
        ("timelock.cmd.schedule", typeof(Domain.Timelock.TimelockProtocol.ScheduleChange)),
        ("timelock.cmd.cancel", typeof(Domain.Timelock.TimelockProtocol.CancelChange)),
        ("timelock.cmd.claim", typeof(Domain.Timelock.TimelockProtocol.ClaimExecution)),
        ("timelock.cmd.complete", typeof(Domain.Timelock.TimelockProtocol.CompleteExecution)),
        ("timelock.cmd.fail", typeof(Domain.Timelock.TimelockProtocol.FailExecution)),
        ("timelock.cmd.list", typeof(Domain.Timelock.TimelockProtocol.GetChanges)),
        ("timelock.reply.changes", typeof(Domain.Timelock.TimelockProtocol.Changes)),
        ("timelock.reply.refused", typeof(Domain.Timelock.TimelockProtocol.Refused)),
        ("timelock.change", typeof(Domain.Timelock.TimelockChange)),
        ("timelock.evt.scheduled", typeof(Domain.Timelock.TimelockProtocol.ChangeScheduled)),
        ("timelock.evt.cancelled", typeof(Domain.Timelock.TimelockProtocol.ChangeCancelled)),
        ("timelock.evt.executed", typeof(Domain.Timelock.TimelockProtocol.ChangeExecuted)),
        ("timelock.evt.execution-failed", typeof(Domain.Timelock.TimelockProtocol.ExecutionFailed)),
        ("timelock.evt.expired", typeof(Domain.Timelock.TimelockProtocol.ChangeExpired)),
        ("timelock.state", typeof(Domain.Timelock.TimelockState)),
    ];

    public static readonly FrozenDictionary<string, Type> TypeByManifest =
        Entries.ToFrozenDictionary(e => e.Manifest, e => e.Type, StringComparer.Ordinal);

    public static readonly FrozenDictionary<Type, string> ManifestByType =
        Entries.ToFrozenDictionary(e => e.Type, e => e.Manifest);
}
