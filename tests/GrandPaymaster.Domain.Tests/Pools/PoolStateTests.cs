using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Pools;
using GrandPaymaster.Domain.Tests.Simulation;
using static GrandPaymaster.Domain.Dapps.DappCommands;
using static GrandPaymaster.Domain.Pools.PoolCommands;
using static GrandPaymaster.Domain.Pools.PoolEvents;

namespace GrandPaymaster.Domain.Tests.Pools;

/// <summary>
/// The pool's decisions one at a time. A <see cref="PoolRunner"/> plays the actor: it journals, signs at once and
/// collects what leaves the pool (broadcasts, messages to dApps, mode publications) in <see cref="_sent"/>.
/// </summary>
public sealed class PoolStateTests
{
    private static readonly ChainId Chain = new(31337);
    private static readonly Address W1 = Address.Parse("0x" + new string('1', 40));
    private static readonly Address W2 = Address.Parse("0x" + new string('2', 40));
    private static readonly Address W3 = Address.Parse("0x" + new string('3', 40));
    private static readonly DappId Dapp = DappId.Parse("acme");
    private static readonly Meta Operator = new(FakeClock.Epoch, "operator:alice", "test", "c-1");
    private static readonly PoolPolicy Policy = new();
    private static readonly BigInteger Gwei = 1_000_000_000;

    private readonly FakeClock _clock = new();
    private readonly FakeSigner _signer = new();
    private readonly List<PoolEffect> _sent = [];
    private readonly PoolRunner _pool;

    public PoolStateTests() => _pool = new PoolRunner(PoolState.Empty(Chain), _signer, _clock, _sent.Add);

    private PoolState State => _pool.State;

    // ---------------------------------------------------------------- workers

    [Fact]
    public void Registering_a_new_wallet_emits_one_event_carrying_who_and_why()
    {
        var (reply, events) = PoolState.Empty(Chain).Handle(new RegisterWorkerWallet(Chain, W1, Operator));

        Assert.True(reply.Added);
        var registered = Assert.IsType<WorkerWalletRegistered>(Assert.Single(events));
        Assert.Equal(W1, registered.Wallet);
        Assert.Same(Operator, registered.Meta);
    }

    [Fact]
    public void Registering_a_known_wallet_in_another_spelling_changes_nothing()
    {
        var state = PoolState.Empty(Chain).Apply(new WorkerWalletRegistered(Chain, Address.Parse("0x" + new string('a', 40)), Operator));

        var (reply, events) = state.Handle(new RegisterWorkerWallet(Chain, Address.Parse("0x" + new string('A', 40)), Operator));

        Assert.False(reply.Added);
        Assert.Empty(events);
    }

    [Fact]
    public void A_command_for_another_chain_is_refused() =>
        Assert.Throws<ArgumentException>(() => PoolState.Empty(Chain).Handle(new RegisterWorkerWallet(new ChainId(1), W1, Operator)));

    // ---------------------------------------------------------------- relays

    [Fact]
    public void A_relay_is_signed_by_the_least_busy_synced_worker_at_its_lowest_free_nonce()
    {
        Register(W1, W2, W3);
        Sync(W1, 5);
        Sync(W2, 3);

        var first = Relay(1);
        var second = Relay(2);
        var third = Relay(3);

        Assert.Equal((W1, 5), (first.Wallet, (int)first.Nonce)); // a tie goes to the first registered
        Assert.Equal((W2, 3), (second.Wallet, (int)second.Nonce));
        Assert.Equal((W1, 6), (third.Wallet, (int)third.Nonce));
        Assert.DoesNotContain(State.Txs.Values, t => t.Wallet == W3); // never synced: never used
        Assert.Equal(first.Hash, _pool.Journal.OfType<TxSubmitted>().First().TxHash);
    }

    [Fact]
    public void No_relay_is_signed_before_a_wallet_is_synced()
    {
        Register(W1);

        _pool.Run(s => s.Relay(RelayOf(1), _clock.Now, Policy));

        Assert.Empty(_sent);
        Assert.Empty(State.Txs);
        Sync(W1, 0);
        Assert.Equal(0, (int)Relay(1).Nonce);
    }

    [Theory]
    [InlineData(BroadcastVerdict.Accepted)]
    [InlineData(BroadcastVerdict.Refused)]
    public void A_duplicate_relay_gets_no_answer_while_the_first_broadcast_awaits_its_verdict_then_the_same_answer(BroadcastVerdict verdict)
    {
        Ready(W1);
        var signed = Relay(1);

        _pool.Run(s => s.Relay(RelayOf(1), _clock.Now, Policy));
        Assert.Empty(_sent);

        Verdict(signed.Hash, verdict);
        var firstAnswer = Assert.Single(Take());
        _pool.Run(s => s.Relay(RelayOf(1), _clock.Now, Policy));
        var secondAnswer = Assert.Single(Take());

        Assert.Equal(firstAnswer, secondAnswer);
        Assert.Single(_pool.Journal.OfType<TxSubmitted>());
    }

    [Fact]
    public void A_paused_pool_answers_nothing_and_a_disabled_pool_releases_without_signing()
    {
        Ready(W1);
        SetMode(PoolMode.Paused);
        Take();

        _pool.Run(s => s.Relay(RelayOf(1), _clock.Now, Policy));
        Assert.Empty(Take());

        SetMode(PoolMode.Disabled);
        Take();
        _pool.Run(s => s.Relay(RelayOf(1), _clock.Now, Policy));

        var failed = Assert.IsType<RelayFailed>(ToDapp(Assert.Single(Take())));
        Assert.Equal(RelayOf(1).QuoteId, failed.QuoteId);
        Assert.Empty(_pool.Journal.OfType<TxSubmitted>());
    }

    [Fact]
    public void A_relay_refused_by_a_disabled_pool_is_journaled_and_never_signed_once_the_pool_is_enabled_again()
    {
        // Found by the simulation: a repeated request (a retry crossing the refusal) reached the pool after an operator
        // enabled it, and the quote was signed although its dApp had released the hold.
        Ready(W1);
        SetMode(PoolMode.Disabled);
        _pool.Run(s => s.Relay(RelayOf(1), _clock.Now, Policy));
        var refusal = Assert.Single(Take().OfType<PoolEffect.ToDapp>());

        SetMode(PoolMode.Normal);
        Take();
        _pool.Run(s => s.Relay(RelayOf(1), _clock.Now, Policy));

        Assert.Equal(RelayOf(1).QuoteId, Assert.IsType<RelayRefused>(_pool.Journal.Single(e => e is RelayRefused)).QuoteId);
        Assert.Equal(refusal, Assert.Single(Take()));
        Assert.Empty(_pool.Journal.OfType<TxSubmitted>());
        Assert.True(_pool.Folded().Released.ContainsKey(RelayOf(1).QuoteId));
    }

    [Fact]
    public void A_relay_asked_again_after_its_settlement_was_acknowledged_is_not_signed_again()
    {
        // Found by the simulation: a late duplicate of a relay request arrived after the dApp acknowledged the
        // settlement, the pool had forgotten the quote, and the user's call was mined a second time.
        Ready(W1);
        var confirmed = Confirmed(1);
        _pool.Run(s => s.Acknowledge([confirmed.QuoteId], _clock.Now));
        Take();

        _pool.Run(s => s.Relay(RelayOf(1), _clock.Now, Policy));

        Assert.Empty(Take());
        Assert.Single(_pool.Journal.OfType<TxSubmitted>());
        Assert.Equal(confirmed.TxHash, State.Settled[confirmed.QuoteId]);
        Assert.Equal(State, _pool.Folded());
    }

    // ---------------------------------------------------------------- verdicts

    [Fact]
    public void A_refused_first_broadcast_releases_the_hold_and_its_nonce_is_reused_lowest_first()
    {
        Ready(W1);
        var refused = Relay(1);
        var alsoRefused = Relay(2);

        Verdict(alsoRefused.Hash, BroadcastVerdict.Refused);
        Verdict(refused.Hash, BroadcastVerdict.Refused);

        var failed = _pool.Journal.OfType<TxBroadcastFailed>().Last();
        Assert.Equal((refused.Hash, W1, BigInteger.Zero), (failed.TxHash, failed.Wallet, failed.Nonce));
        Assert.Equal([RelayOf(2).QuoteId, RelayOf(1).QuoteId], Take().Select(e => Assert.IsType<RelayFailed>(ToDapp(e)).QuoteId));
        Assert.Empty(State.Txs);
        Assert.True(State.Released.ContainsKey(RelayOf(1).QuoteId));
        Assert.Equal([0, 1], State.NoncesOf(W1).Free.Keys.Select(n => (int)n));

        Assert.Equal([0, 1, 2], new[] { Relay(3), Relay(4), Relay(5) }.Select(t => (int)t.Nonce));
        Assert.Empty(State.NoncesOf(W1).Free);
    }

    [Theory]
    [InlineData(BroadcastVerdict.Accepted)]
    [InlineData(BroadcastVerdict.Unknown)]
    [InlineData(BroadcastVerdict.NonceTooLow)]
    public void Any_first_verdict_but_a_refusal_answers_success_and_releases_nothing(BroadcastVerdict verdict)
    {
        Ready(W1);
        var signed = Relay(1);

        Verdict(signed.Hash, verdict);

        var succeeded = Assert.IsType<RelaySucceeded>(ToDapp(Assert.Single(Take())));
        Assert.Equal((signed.Hash, W1, BigInteger.Zero), (succeeded.TxHash, succeeded.Wallet, succeeded.Nonce));
        Assert.True(State.Txs[RelayOf(1).QuoteId].IsPending);
        Assert.Empty(State.Released);
        Assert.DoesNotContain(_pool.Journal, e => e is TxBroadcastFailed or TxDropped);
    }

    [Fact]
    public void A_refusal_of_a_later_attempt_or_a_second_verdict_releases_nothing()
    {
        Ready(W1);
        var original = Relay(1);
        Verdict(original.Hash, BroadcastVerdict.Unknown);
        _clock.Advance(Policy.StuckAfter);
        var speedUp = TickSigned().Single();

        Verdict(speedUp.Hash, BroadcastVerdict.Refused);
        Verdict(original.Hash, BroadcastVerdict.Refused);

        Assert.Equal(2, State.Txs[RelayOf(1).QuoteId].Attempts.Count);
        Assert.Empty(State.Released);
        Assert.DoesNotContain(Take(), e => e is PoolEffect.ToDapp { Message: RelayFailed });
    }

    // ---------------------------------------------------------------- receipts and drops

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_final_receipt_of_the_original_or_a_speed_up_confirms_that_hash_and_settles(bool speedUpMined)
    {
        Ready(W1);
        var original = Relay(1);
        Verdict(original.Hash, BroadcastVerdict.Accepted);
        _clock.Advance(Policy.StuckAfter);
        var speedUp = TickSigned().Single();
        var mined = speedUpMined ? speedUp : original;
        Take();

        _pool.Run(s => s.OnFinalReceipt(mined.Hash, 60_000, 21 * Gwei, true, 100, "0xb100", _clock.Now, Policy));

        var confirmed = Assert.IsType<TxConfirmed>(_pool.Journal[^1]);
        Assert.Equal((mined.Hash, new BigInteger(60_000), 21 * Gwei), (confirmed.TxHash, confirmed.GasUsed, confirmed.EffectiveGasPrice.Value));
        var settle = Assert.IsType<SettleFee>(ToDapp(Assert.Single(Take())));
        Assert.Equal((RelayOf(1).QuoteId, mined.Hash, new BigInteger(100)), (settle.QuoteId, settle.TxHash, settle.BlockNumber));
        Assert.False(State.Txs[RelayOf(1).QuoteId].IsPending);
        Assert.Single(State.Redeliveries);
    }

    [Fact]
    public void The_final_receipt_of_a_cancel_drops_the_quote_at_the_cancels_cost_and_releases_the_hold()
    {
        Ready(W1);
        var original = Relay(1, priceGwei: 0); // signed at its cap: no speed-up fits
        Verdict(original.Hash, BroadcastVerdict.Accepted);
        _clock.Advance(Policy.StuckAfter);
        var cancel = TickSigned(baseFee: 40 * Gwei).Single();
        Take();

        _pool.Run(s => s.OnFinalReceipt(cancel.Hash, 21_000, 81 * Gwei, true, 100, "0xb100", _clock.Now, Policy));

        var dropped = Assert.IsType<TxDropped>(_pool.Journal[^1]);
        Assert.Equal((cancel.Hash, 21_000 * 81 * Gwei), (dropped.CancelTxHash, dropped.CancelCostWei));
        Assert.IsType<RelayFailed>(ToDapp(Assert.Single(Take())));
        Assert.True(State.Released.ContainsKey(RelayOf(1).QuoteId));
        Assert.Empty(State.Txs);
    }

    [Fact]
    public void A_nonce_taken_by_another_transaction_drops_the_quote_and_releases_the_hold()
    {
        Ready(W1);
        var signed = Relay(1);
        Verdict(signed.Hash, BroadcastVerdict.Accepted);
        Take();

        _pool.Run(s => s.OnNonceTakenByOther(RelayOf(1).QuoteId, _clock.Now, Policy));

        var dropped = Assert.IsType<TxDropped>(_pool.Journal[^1]);
        Assert.Null(dropped.CancelTxHash);
        Assert.Equal(RelayOf(1).QuoteId, Assert.IsType<RelayFailed>(ToDapp(Assert.Single(Take()))).QuoteId);
        Assert.Empty(State.Txs);
    }

    // ---------------------------------------------------------------- stuck transactions

    [Fact]
    public void A_stuck_transaction_is_sped_up_with_both_fees_at_least_12_5_percent_higher_within_its_cap()
    {
        Ready(W1);
        var original = Relay(1, capGwei: 30, priceGwei: 20);
        Verdict(original.Hash, BroadcastVerdict.Accepted);

        _clock.Advance(Policy.StuckAfter - TimeSpan.FromSeconds(1));
        Assert.Empty(TickSigned());
        _clock.Advance(TimeSpan.FromSeconds(1));
        var attempts = new List<SignedTx> { original };
        while (TickSigned(baseFee: 10 * Gwei) is [var next] && next.Kind == AttemptKind.SpeedUp)
        {
            var last = attempts[^1];
            Assert.True(next.MaxFeePerGas * 1_000 >= last.MaxFeePerGas * 1_125, "max fee bumped ≥ 12.5 %");
            Assert.True(next.PriorityFeePerGas * 1_000 >= last.PriorityFeePerGas * 1_125, "tip bumped ≥ 12.5 %");
            Assert.True(next.MaxFeePerGas <= 30 * Gwei, "within the cap the hold covers");
            Assert.Equal((original.Wallet, original.Nonce, original.GasLimit), (next.Wallet, next.Nonce, next.GasLimit));
            attempts.Add(next);
            _clock.Advance(Policy.StuckAfter);
        }

        Assert.Equal(4, attempts.Count); // 20 → 22.5 → 25.3 → 28.5 gwei; 32 would pass the 30 gwei cap
        Assert.Equal([AttemptKind.SpeedUp, AttemptKind.SpeedUp, AttemptKind.SpeedUp, AttemptKind.Cancel],
            _pool.Journal.OfType<TxReplaced>().Select(e => e.Attempt.Kind));
        Assert.Equal(3, Take().Count(e => e is PoolEffect.ToDapp { Message: RelayReplaced { Kind: "SpeedUp" } }));
    }

    [Fact]
    public void A_stuck_transaction_at_its_cap_is_cancelled_by_a_self_send_priced_to_be_mined_now()
    {
        Ready(W1);
        var original = Relay(1, capGwei: 30, priceGwei: 0);
        Verdict(original.Hash, BroadcastVerdict.Accepted);
        _clock.Advance(Policy.StuckAfter);

        Assert.Empty(TickSigned(baseFee: null)); // no base fee seen yet: a cancel cannot be priced
        var baseFee = 50 * Gwei;
        var cancel = TickSigned(baseFee).Single();

        Assert.Equal(AttemptKind.Cancel, cancel.Kind);
        Assert.Equal(21_000, (int)cancel.GasLimit); // a 0-value self-send
        Assert.Equal((original.Wallet, original.Nonce), (cancel.Wallet, cancel.Nonce));
        Assert.True(cancel.MaxFeePerGas >= 2 * baseFee + cancel.PriorityFeePerGas);
        Assert.True(cancel.MaxFeePerGas * 1_000 >= original.MaxFeePerGas * 1_125 && cancel.PriorityFeePerGas * 1_000 >= original.PriorityFeePerGas * 1_125);
        Assert.Contains(Take(), e => e is PoolEffect.ToDapp { Message: RelayReplaced { Kind: "Cancel" } });
    }

    [Fact]
    public void A_cancel_is_never_priced_above_the_ceiling_the_pool_pays_for()
    {
        Ready(W1);
        var original = Relay(1, capGwei: 30, priceGwei: 0);
        Verdict(original.Hash, BroadcastVerdict.Accepted);
        _clock.Advance(Policy.StuckAfter);

        var ceiling = Policy.MaxCancelFeePerGas;
        Assert.Empty(TickSigned(baseFee: ceiling)); // 2 × base fee + tip would pass the ceiling: wait
        Assert.Equal(AttemptKind.Cancel, TickSigned(baseFee: ceiling / 4).Single().Kind);
    }

    [Fact]
    public void No_attempt_is_added_while_the_first_broadcast_awaits_its_verdict()
    {
        Ready(W1);
        Relay(1);
        _clock.Advance(Policy.StuckAfter * 3);

        Assert.Empty(TickSigned(baseFee: 10 * Gwei));
    }

    // ---------------------------------------------------------------- nonce gaps

    [Fact]
    public void A_free_nonce_below_a_pending_one_is_filled_after_GapFillAfter()
    {
        Ready(W1);
        FreeNonceZeroBelowPendingOne();
        var baseFee = 10 * Gwei;

        _clock.Advance(Policy.GapFillAfter - TimeSpan.FromMilliseconds(1));
        Assert.Empty(TickSigned(baseFee));
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        var fill = TickSigned(baseFee).Single();

        Assert.Equal((AttemptKind.GapFill, W1, BigInteger.Zero), (fill.Kind, fill.Wallet, fill.Nonce));
        Assert.Equal(2 * baseFee + Policy.PriorityFeePerGas, fill.MaxFeePerGas);
        Assert.IsType<GapFillSubmitted>(_pool.Journal[^1]);
        Assert.Empty(State.NoncesOf(W1).Free);
        Assert.Empty(TickSigned(baseFee)); // filled once

        _pool.Run(s => s.OnFinalReceipt(fill.Hash, 21_000, 11 * Gwei, true, 7, "0xb7", _clock.Now, Policy));
        Assert.Equal(21_000 * 11 * Gwei, Assert.IsType<GapFilled>(_pool.Journal[^1]).CostWei);
        Assert.Empty(State.GapFills);
    }

    [Fact]
    public void A_free_nonce_above_every_pending_one_is_kept_for_the_next_relay_not_filled()
    {
        Ready(W1);
        var pending = Relay(1);
        var refused = Relay(2);
        Verdict(pending.Hash, BroadcastVerdict.Accepted);
        Verdict(refused.Hash, BroadcastVerdict.Refused);
        _clock.Advance(Policy.GapFillAfter * 10);

        Assert.Empty(TickSigned(10 * Gwei));
        Assert.Equal(BigInteger.One, Relay(3).Nonce);
    }

    [Fact]
    public void A_gap_whose_nonce_something_else_consumed_is_closed()
    {
        Ready(W1);
        FreeNonceZeroBelowPendingOne();
        _clock.Advance(Policy.GapFillAfter);
        var fill = TickSigned(10 * Gwei).Single();

        _pool.Run(s => s.OnGapNonceConsumed(fill.Wallet, fill.Nonce, _clock.Now));

        Assert.Equal(BigInteger.Zero, Assert.IsType<GapFilled>(_pool.Journal[^1]).CostWei);
        Assert.Empty(State.GapFills);
    }

    [Fact]
    public void A_resync_journals_the_nonces_nobody_holds_between_the_chain_and_our_next_as_a_gap()
    {
        Register(W1);
        _pool.Run(new PoolStep(State.Apply(Submitted(1, W1, 5)), [Submitted(1, W1, 5)], []));

        Sync(W1, 2);

        var gap = Assert.IsType<NonceGapFound>(_pool.Journal[^1]);
        Assert.Equal([2, 3, 4], gap.Nonces.Select(n => (int)n));
        Assert.Equal([2, 3, 4], State.NoncesOf(W1).Free.Keys.Select(n => (int)n));
        _clock.Advance(Policy.GapFillAfter);
        Assert.Equal([2, 3, 4], TickSigned(10 * Gwei).Select(t => (int)t.Nonce));
    }

    [Fact]
    public void A_resync_never_lowers_the_next_nonce_below_journaled_ones_but_follows_a_chain_ahead()
    {
        Register(W1);
        _pool.Run(new PoolStep(State.Apply(Submitted(1, W1, 7)), [Submitted(1, W1, 7)], []));

        Sync(W1, 3); // a lagging node: our nonce 7 is journaled, so 8 stays next (3–6 are gaps below it)
        Assert.Equal(8, (int)State.NoncesOf(W1).Next);
        Assert.Equal([3, 4, 5, 6], State.NoncesOf(W1).Free.Keys.Select(n => (int)n));

        Sync(W1, 12); // the chain is ahead (another sender used 8–11, and the gaps): follow it
        Assert.Equal(12, (int)State.NoncesOf(W1).Next);
        Assert.Empty(State.NoncesOf(W1).Free);
        Assert.Equal(12, (int)Relay(2).Nonce);
    }

    // ---------------------------------------------------------------- modes

    [Fact]
    public void Every_endpoint_down_pauses_at_once_and_answering_again_resumes_only_after_ResumeAfter()
    {
        Ready(W1);

        Observe(false);
        Assert.Equal((PoolMode.Paused, PauseCause.Auto), (State.Mode.Mode, State.Mode.Cause));
        Assert.Equal(State.Mode, Assert.IsType<PoolEffect.PublishMode>(Assert.Single(Take())).View);

        Observe(true);
        _clock.Advance(Policy.ResumeAfter / 2);
        Observe(false); // flapping restarts the wait
        Observe(true);
        _clock.Advance(Policy.ResumeAfter - TimeSpan.FromMilliseconds(1));
        Observe(true);
        Assert.Equal(PoolMode.Paused, State.Mode.Mode);
        Assert.Empty(Take());

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Observe(true);
        Assert.Equal(PoolMode.Normal, State.Mode.Mode);
        Assert.IsType<PoolEffect.PublishMode>(Assert.Single(Take()));
        Assert.Equal(2, _pool.Journal.OfType<PoolModeChanged>().Count());
    }

    [Fact]
    public void The_pool_never_resumes_a_manual_pause_or_a_disabled_pool_by_itself()
    {
        foreach (var mode in new[] { PoolMode.Paused, PoolMode.Disabled })
        {
            SetMode(mode);
            Observe(false);
            Observe(true);
            _clock.Advance(Policy.ResumeAfter * 10);
            Observe(true);

            Assert.Equal(mode, State.Mode.Mode);
        }
    }

    [Fact]
    public void An_operator_mode_change_is_journaled_and_published_once()
    {
        SetMode(PoolMode.Paused);
        SetMode(PoolMode.Paused);
        SetMode(PoolMode.Disabled);
        SetMode(PoolMode.Normal);

        Assert.Equal([PoolMode.Paused, PoolMode.Disabled, PoolMode.Normal], _pool.Journal.OfType<PoolModeChanged>().Select(e => e.Mode));
        Assert.Equal(3, Take().OfType<PoolEffect.PublishMode>().Count());
        Assert.Equal(Operator.Reason, State.Mode.Reason);
    }

    [Fact]
    public void An_operator_may_resume_an_automatic_pause_or_make_it_manual()
    {
        Observe(false);
        SetMode(PoolMode.Paused);
        Assert.Equal(PauseCause.Manual, State.Mode.Cause);

        SetMode(PoolMode.Normal);
        Assert.Equal((PoolMode.Normal, PauseCause.None), (State.Mode.Mode, State.Mode.Cause));
    }

    // ---------------------------------------------------------------- settlements

    [Fact]
    public void Acknowledgements_of_a_tick_are_journaled_in_one_event_and_stop_redelivery()
    {
        Ready(W1);
        var quotes = Enumerable.Range(1, 3).Select(n => Confirmed(n).QuoteId).ToArray();
        var stillPending = RelayOf(9).QuoteId;
        Relay(9);
        Assert.Equal(3, State.Redeliveries.Count());

        _pool.Run(s => s.Acknowledge([quotes[0], quotes[1], quotes[0], stillPending, RelayOf(42).QuoteId], _clock.Now));
        _pool.Run(s => s.Acknowledge([quotes[2]], _clock.Now));
        _pool.Run(s => s.Acknowledge([quotes[2]], _clock.Now));

        var acks = _pool.Journal.OfType<SettlementsAcknowledged>().ToArray();
        Assert.Equal(2, acks.Length);
        Assert.Equal([quotes[0], quotes[1]], acks[0].QuoteIds);
        Assert.Empty(State.Redeliveries);
        Assert.True(State.Txs.ContainsKey(stillPending));
    }

    // ---------------------------------------------------------------- recovery

    [Fact]
    public void Folding_the_journal_of_a_run_rebuilds_a_state_equal_to_the_live_one()
    {
        Register(W1, W2);
        Sync(W1, 0);
        Sync(W2, 0);
        var refused = Relay(1);
        var confirmed = Relay(2);
        var stuck = Relay(3, priceGwei: 0);
        var acknowledged = Relay(4);
        var dropped = Relay(5);
        Verdict(refused.Hash, BroadcastVerdict.Refused);
        foreach (var tx in new[] { confirmed, stuck, acknowledged, dropped }) Verdict(tx.Hash, BroadcastVerdict.Unknown);
        _clock.Advance(Policy.StuckAfter);
        TickSigned(10 * Gwei); // speed-ups, a cancel and a gap fill
        _pool.Run(s => s.OnFinalReceipt(confirmed.Hash, 50_000, 12 * Gwei, true, 3, "0xb3", _clock.Now, Policy));
        _pool.Run(s => s.OnFinalReceipt(acknowledged.Hash, 50_000, 12 * Gwei, false, 3, "0xb3", _clock.Now, Policy));
        _pool.Run(s => s.Acknowledge([RelayOf(4).QuoteId], _clock.Now));
        _pool.Run(s => s.OnNonceTakenByOther(RelayOf(5).QuoteId, _clock.Now, Policy));
        Observe(false);

        var recovered = _pool.Folded();

        Assert.Equal(State, recovered);
        Assert.Equal(State, recovered.AfterRecovery());
        Assert.Contains(_pool.Journal, e => e is TxReplaced { Attempt.Kind: AttemptKind.Cancel });
        Assert.Contains(_pool.Journal, e => e is GapFillSubmitted);
        Assert.Empty(recovered.AfterRecovery().Synced);
        Assert.Empty(recovered.AfterRecovery().AwaitingVerdict);
    }

    [Fact]
    public void After_a_restart_a_relay_is_answered_with_its_journaled_transaction_not_signed_again()
    {
        Ready(W1);
        var signed = Relay(1);

        _pool.Restart();
        Take();
        Sync(W1, 0);
        _pool.Run(s => s.Relay(RelayOf(1), _clock.Now, Policy));

        Assert.Equal(signed.Hash, Assert.IsType<RelaySucceeded>(ToDapp(Assert.Single(Take()))).TxHash);
        Assert.Single(_pool.Journal.OfType<TxSubmitted>());
    }

    [Fact]
    public void Only_a_wallets_lowest_open_nonce_is_sped_up_the_ones_above_it_wait()
    {
        Ready(W1);
        var lower = Relay(1);
        var upper = Relay(2);
        Verdict(lower.Hash, BroadcastVerdict.Accepted);
        Verdict(upper.Hash, BroadcastVerdict.Accepted);
        _clock.Advance(Policy.StuckAfter);

        var bumped = TickSigned().Single();

        Assert.Equal(lower.Nonce, bumped.Nonce);
        _pool.Run(s => s.OnFinalReceipt(bumped.Hash, 21_000, Gwei, true, 1, "0xb1", _clock.Now, Policy));
        Assert.Equal(upper.Nonce, TickSigned().Single().Nonce); // now the lowest, and stuck for as long
    }

    [Fact]
    public void A_stuck_gap_fill_is_priced_up_like_a_cancel_within_the_ceiling()
    {
        Ready(W1);
        FreeNonceZeroBelowPendingOne();
        _clock.Advance(Policy.GapFillAfter);
        var fill = TickSigned(baseFee: 10 * Gwei).Single();
        Assert.Equal(AttemptKind.GapFill, fill.Kind);
        _clock.Advance(Policy.StuckAfter);

        var again = TickSigned(baseFee: 40 * Gwei).Single();

        Assert.Equal((AttemptKind.GapFill, fill.Nonce), (again.Kind, again.Nonce));
        Assert.True(again.MaxFeePerGas >= 2 * 40 * Gwei + again.PriorityFeePerGas && again.PriorityFeePerGas * 1_000 >= fill.PriorityFeePerGas * 1_125);
        Assert.Equal(again.Hash, Assert.Single(State.GapFills.Values).Attempt.TxHash);
        _clock.Advance(Policy.StuckAfter);
        Assert.Empty(TickSigned(baseFee: Policy.MaxCancelFeePerGas)); // never above what the pool pays for
    }

    [Fact]
    public void A_lagging_nonce_count_never_turns_nonces_we_saw_mined_into_gaps()
    {
        Ready(W1);
        Confirmed(1);
        Confirmed(2);

        Sync(W1, 0); // an endpoint that has not seen either block yet

        Assert.DoesNotContain(_pool.Journal, e => e is NonceGapFound);
        Assert.Empty(State.NoncesOf(W1).Free);
        Assert.Equal(2, (int)State.NoncesOf(W1).Next);
    }

    [Fact]
    public void A_mode_set_by_an_operator_is_stamped_with_the_pools_clock()
    {
        Ready(W1);
        var edgeClock = _clock.Now - TimeSpan.FromMinutes(5);

        _pool.Run(s => s.SetMode(new SetPoolMode(Chain, PoolMode.Paused, Operator with { At = edgeClock }), _clock.Now));

        Assert.Equal(_clock.Now, State.Mode.Since);
        Assert.Equal(Operator.Actor, Assert.IsType<PoolModeChanged>(_pool.Journal[^1]).Meta.Actor);
    }

    [Fact]
    public void The_summary_counts_transactions_in_flight_since_the_oldest_and_settlements_not_yet_acknowledged()
    {
        Ready(W1);
        Confirmed(1);
        var firstAt = _clock.Now;
        Verdict(Relay(2).Hash, BroadcastVerdict.Accepted);
        _clock.Advance(TimeSpan.FromSeconds(5));
        Verdict(Relay(3).Hash, BroadcastVerdict.Accepted);

        var summary = State.Summary();

        Assert.Equal((2, firstAt, 1, 0, 1, 1), (summary.InFlight, summary.OldestInFlightSince, summary.UndeliveredSettlements, summary.GapFills,
            summary.Workers, summary.SyncedWorkers));
        Assert.Null(PoolState.Empty(Chain).Summary().OldestInFlightSince);
    }

    // ---------------------------------------------------------------- forwarded requests (ERC-2771)

    private static readonly Address Forwarder = Address.Parse("0x" + new string('f', 40));
    private static readonly Address User = Address.Parse("0x" + new string('e', 40));

    private RelayTransaction Forwarded(int n, int userNonce, bool simulated = false, long deadlineIn = 60) =>
        RelayOf(n) with { To = Forwarder, Forward = new ForwardedCall(Forwarder, User, userNonce, _clock.Now.ToUnixTimeSeconds() + deadlineIn, simulated) };

    private List<PoolEffect.Preflight> Preflights() => Take().OfType<PoolEffect.Preflight>().ToList();

    [Fact]
    public void A_users_requests_are_signed_one_at_a_time_in_nonce_order_each_simulated_first_unless_the_edge_just_did()
    {
        Ready(W1);
        _pool.Run(s => s.Relay(Forwarded(2, userNonce: 1), _clock.Now, Policy));
        Assert.Equal(RelayOf(2).QuoteId, Assert.Single(Preflights()).Relay.QuoteId);
        _pool.Run(s => s.OnPreflight(RelayOf(2).QuoteId, PreflightVerdict.NonceAhead, _clock.Now, Policy)); // nonce 0 is not mined yet

        _pool.Run(s => s.Relay(Forwarded(1, userNonce: 0, simulated: true), _clock.Now, Policy));
        // Something of the user's was already held here: the edge's simulation is not trusted for ordering; it is checked again.
        Assert.Equal(RelayOf(1).QuoteId, Assert.Single(Preflights()).Relay.QuoteId);
        _pool.Run(s => s.OnPreflight(RelayOf(1).QuoteId, PreflightVerdict.Passes, _clock.Now, Policy));
        var first = Assert.Single(SignedSince(0));
        Assert.Equal(Forwarder, State.Txs[RelayOf(1).QuoteId].Forward!.Forwarder);

        _clock.Advance(TimeSpan.FromSeconds(2));
        _pool.Run(s => s.Tick(_clock.Now, 10 * Gwei, Policy));
        Assert.Empty(Preflights()); // nonce 1 waits while nonce 0 is in flight
        Verdict(first.Hash, BroadcastVerdict.Accepted);
        Take();
        _pool.Run(s => s.OnFinalReceipt(first.Hash, 90_000, Gwei, true, 1, "0xb1", _clock.Now, Policy, [new ForwardExecution(Forwarder, User, 0, true)]));
        Assert.Equal(RelayOf(2).QuoteId, Assert.Single(Preflights()).Relay.QuoteId);
        Assert.True(((TxConfirmed)_pool.Journal.Last(e => e is TxConfirmed)).Succeeded);
    }

    [Fact]
    public void A_forwarded_transaction_mined_without_the_forwarders_success_event_is_a_failed_call_and_the_users_later_requests_are_released()
    {
        Ready(W1);
        _pool.Run(s => s.Relay(Forwarded(1, userNonce: 0, simulated: true), _clock.Now, Policy));
        var first = Assert.Single(SignedSince(0)); // the edge simulated it and nothing of the user's was ahead: signed at once
        _pool.Run(s => s.Relay(Forwarded(2, userNonce: 1), _clock.Now, Policy));
        _pool.Run(s => s.Relay(Forwarded(3, userNonce: 2), _clock.Now, Policy));
        Verdict(first.Hash, BroadcastVerdict.Accepted);
        Take();

        // Mined, but the receipt carries no successful ExecutedForwardRequest for this user and nonce (another signer's does not count).
        _pool.Run(s => s.OnFinalReceipt(first.Hash, 90_000, Gwei, true, 1, "0xb1", _clock.Now, Policy, [new ForwardExecution(Forwarder, W2, 0, true)]));

        Assert.False(((TxConfirmed)_pool.Journal.Last(e => e is TxConfirmed)).Succeeded);
        var refused = _pool.Journal.OfType<RelayRefused>().ToArray();
        Assert.Equal([RelayOf(2).QuoteId, RelayOf(3).QuoteId], refused.Select(r => r.QuoteId));
        Assert.All(refused, r => Assert.Equal(RejectionCodes.NonceStale, r.Code));
        Assert.Equal(2, Take().Select(e => e is PoolEffect.ToDapp { Message: RelayFailed { Code: RejectionCodes.NonceStale } }).Count(x => x));
        Assert.Empty(State.Waiting);
        Assert.Equal(_pool.Folded().Released.Keys.Select(q => q.Value).Order(), State.Released.Keys.Select(q => q.Value).Order());
    }

    [Fact]
    public void A_held_back_request_is_released_as_request_expired_once_its_deadline_passes_and_a_late_signature_is_thrown_away()
    {
        Ready(W1);
        _pool.Run(s => s.Relay(Forwarded(1, userNonce: 3, deadlineIn: 5), _clock.Now, Policy));
        _pool.Run(s => s.OnPreflight(RelayOf(1).QuoteId, PreflightVerdict.NonceAhead, _clock.Now, Policy));
        Take();

        _clock.Advance(TimeSpan.FromSeconds(6));
        _pool.Run(s => s.Tick(_clock.Now, 10 * Gwei, Policy));

        Assert.Equal(RejectionCodes.RequestExpired, Assert.Single(_pool.Journal.OfType<RelayRefused>()).Code);
        Assert.Empty(State.Waiting);
        // A relay asked for again is answered with the release, never signed.
        _pool.Run(s => s.Relay(Forwarded(1, userNonce: 3), _clock.Now, Policy));
        Assert.Empty(SignedSince(0));
    }

    // ---------------------------------------------------------------- the workers' window

    private static readonly PoolPolicy Window2 = new() { MaxInFlightPerWorker = 2 };

    /// <summary>What the host does after a slot may have freed: signs queued relays until the queue stops shrinking.</summary>
    private void FillSlots(PoolPolicy policy)
    {
        while (!State.QueuedForSlot.IsEmpty)
        {
            var step = State.NextFromSlotQueue(_clock.Now, policy);
            if (ReferenceEquals(step.State, State)) return;
            _pool.Run(step);
        }
    }

    private void Receipt(string txHash, PoolPolicy policy) => _pool.Run(s => s.OnFinalReceipt(txHash, 60_000, Gwei, true, 1, "0xb1", _clock.Now, policy));

    [Fact]
    public void Relays_beyond_every_workers_window_wait_in_arrival_order_and_are_signed_as_transactions_become_final()
    {
        Ready(W1);
        foreach (var n in new[] { 1, 2, 3, 4, 3 }) // quote 3 asked for twice
            _pool.Run(s => s.Relay(RelayOf(n), _clock.Now, Window2));
        var signed = SignedSince(0);
        Assert.Equal([0, 1], signed.Select(t => (int)t.Nonce));
        Assert.Equal(2, State.Summary().Queued);
        Assert.Equal(2, State.Pending.Count());
        FillSlots(Window2);
        Assert.Empty(SignedSince(0)); // no room: nothing moves

        Verdict(signed[0].Hash, BroadcastVerdict.Accepted);
        Receipt(signed[0].Hash, Window2);
        FillSlots(Window2);

        var third = Assert.Single(SignedSince(0));
        Assert.Equal((W1, 2), (third.Wallet, (int)third.Nonce));
        Assert.Equal(RelayOf(3).QuoteId, State.Txs.Values.Single(t => t.Nonce == 2).QuoteId); // first come, first signed
        Assert.Equal(1, State.Summary().Queued);
        // Nothing of the queue is journaled: after a crash the dApps ask again.
        Assert.Empty(_pool.Folded().AfterRecovery().QueuedForSlot);
    }

    [Fact]
    public void A_queued_relay_released_meanwhile_is_never_signed_and_the_queue_is_bounded()
    {
        Ready(W1);
        _pool.Run(s => s.Relay(RelayOf(1), _clock.Now, Window2));
        _pool.Run(s => s.Relay(RelayOf(2), _clock.Now, Window2));
        _pool.Run(s => s.Relay(RelayOf(3), _clock.Now, Window2));
        SetMode(PoolMode.Disabled);
        _pool.Run(s => s.Relay(RelayOf(3), _clock.Now, Window2)); // its dApp asks again: released, journaled
        SetMode(PoolMode.Normal);
        var first = SignedSince(0)[0];
        Verdict(first.Hash, BroadcastVerdict.Accepted);
        Receipt(first.Hash, Window2);
        FillSlots(Window2);

        Assert.Empty(SignedSince(0));
        Assert.Empty(State.QueuedForSlot);
        Assert.True(State.Released.ContainsKey(RelayOf(3).QuoteId));

        var full = State with
        {
            QueuedForSlot = Enumerable.Range(100, PoolState.MaxQueuedForSlot).Aggregate(State.QueuedForSlot, (q, n) => q.Add(RelayOf(n).QuoteId, RelayOf(n))),
        };
        Assert.Same(full.QueuedForSlot, full.Relay(RelayOf(99), _clock.Now, Window2).State.QueuedForSlot);
    }

    [Fact]
    public void A_forwarded_request_waiting_for_a_worker_is_released_as_request_expired_once_its_deadline_passes_and_the_queue_moves_on()
    {
        var window1 = new PoolPolicy { MaxInFlightPerWorker = 1 };
        Ready(W1);
        _pool.Run(s => s.Relay(RelayOf(1), _clock.Now, window1));
        _pool.Run(s => s.Relay(Forwarded(2, userNonce: 0, simulated: true, deadlineIn: 5), _clock.Now, window1));
        _pool.Run(s => s.Relay(RelayOf(3), _clock.Now, window1)); // queued behind the forwarded one
        var first = Assert.Single(SignedSince(0));
        Assert.True(State.QueuedForSlot.ContainsKey(RelayOf(2).QuoteId));
        Assert.Equal(2, State.Summary().Queued);
        Take();

        _clock.Advance(TimeSpan.FromSeconds(6));
        _pool.Run(s => s.Tick(_clock.Now, 10 * Gwei, window1));

        Assert.Equal(RejectionCodes.RequestExpired, Assert.Single(_pool.Journal.OfType<RelayRefused>()).Code);
        Assert.Contains(Take(), e => e is PoolEffect.ToDapp { Message: RelayFailed { Code: RejectionCodes.RequestExpired } });
        Assert.Empty(State.Waiting);
        Assert.Equal([RelayOf(3).QuoteId], State.QueuedForSlot.Keys);
        Verdict(first.Hash, BroadcastVerdict.Accepted);
        Receipt(first.Hash, window1);
        FillSlots(window1);
        // The released one's id at the head is dropped, and the relay behind it gets the slot.
        var next = Assert.Single(SignedSince(0));
        Assert.Equal(RelayOf(3).QuoteId, State.Txs.Values.Single(t => t.Nonce == next.Nonce).QuoteId);
        Assert.Empty(State.SlotQueue);
    }

    [Fact]
    public void A_forwarded_request_that_waited_for_a_worker_is_simulated_again_before_it_is_signed()
    {
        var window1 = new PoolPolicy { MaxInFlightPerWorker = 1 };
        Ready(W1);
        _pool.Run(s => s.Relay(RelayOf(1), _clock.Now, window1));
        _pool.Run(s => s.Relay(Forwarded(2, userNonce: 0, simulated: true, deadlineIn: 60), _clock.Now, window1));
        var first = Assert.Single(SignedSince(0));
        Take();

        _clock.Advance(TimeSpan.FromSeconds(5));
        Verdict(first.Hash, BroadcastVerdict.Accepted);
        Receipt(first.Hash, window1);
        FillSlots(window1);

        Assert.Empty(SignedSince(0));
        Assert.Equal(RelayOf(2).QuoteId, Assert.Single(Preflights()).Relay.QuoteId);
        _pool.Run(s => s.OnPreflight(RelayOf(2).QuoteId, PreflightVerdict.Passes, _clock.Now, window1));
        Assert.Single(SignedSince(0));
    }

    // ---------------------------------------------------------------- helpers

    private static RelayTransaction RelayOf(int n, long capGwei = 30, long priceGwei = 20) =>
        new(Chain, QuoteId.Parse($"q-{Dapp}-{n:x32}"), Dapp, W3, "0xabcdef", 100_000, new Wei(capGwei * Gwei), new Wei(priceGwei * Gwei));

    private static TxSubmitted Submitted(int n, Address wallet, int nonce) =>
        new(Chain, RelayOf(n).QuoteId, Dapp, wallet, nonce, $"0x{n:x64}", $"0x02{n:x64}", Operator, 20 * Gwei, Gwei, 30 * Gwei);

    private void Register(params Address[] wallets)
    {
        foreach (var wallet in wallets)
        {
            var (_, events) = State.Handle(new RegisterWorkerWallet(Chain, wallet, Operator));
            _pool.Run(new PoolStep(events.Aggregate(State, (s, e) => s.Apply(e)), events, []));
        }
    }

    private void Ready(Address wallet)
    {
        Register(wallet);
        Sync(wallet, 0);
    }

    /// <summary>Relays two quotes at nonces 0 and 1; the first broadcast is refused, the second accepted.</summary>
    private void FreeNonceZeroBelowPendingOne()
    {
        var refused = Relay(1);
        var pending = Relay(2);
        Verdict(pending.Hash, BroadcastVerdict.Accepted);
        Verdict(refused.Hash, BroadcastVerdict.Refused);
        Assert.Equal([0], State.NoncesOf(W1).Free.Keys.Select(n => (int)n));
    }

    private void Sync(Address wallet, int pendingCount) => _pool.Run(s => s.SyncNonce(wallet, pendingCount, _clock.Now));

    private void SetMode(PoolMode mode) => _pool.Run(s => s.SetMode(new SetPoolMode(Chain, mode, Operator), _clock.Now));

    private void Observe(bool answering) => _pool.Run(s => s.ObserveEndpoints(answering, _clock.Now, Policy));

    private void Verdict(string txHash, BroadcastVerdict verdict) => _pool.Run(s => s.OnBroadcast(txHash, verdict, $"node said {verdict}", _clock.Now, Policy));

    /// <summary>Relays quote <paramref name="n"/> and returns what was signed and broadcast for it.</summary>
    private SignedTx Relay(int n, long capGwei = 30, long priceGwei = 20)
    {
        var before = _sent.Count;
        _pool.Run(s => s.Relay(RelayOf(n, capGwei, priceGwei), _clock.Now, Policy));
        return SignedSince(before).Single();
    }

    /// <summary>Ticks the pool and returns what it signed and broadcast.</summary>
    private IReadOnlyList<SignedTx> TickSigned() => TickSigned(10 * Gwei);

    /// <summary>Ticks the pool with the chain's base fee (null: not seen yet) and returns what it signed and broadcast.</summary>
    private IReadOnlyList<SignedTx> TickSigned(BigInteger? baseFee)
    {
        var before = _sent.Count;
        _pool.Run(s => s.Tick(_clock.Now, baseFee, Policy));
        return SignedSince(before);
    }

    /// <summary>Takes the broadcasts sent since <paramref name="index"/> out of <see cref="_sent"/> and returns what they carry.</summary>
    private List<SignedTx> SignedSince(int index)
    {
        var broadcasts = _sent.Skip(Math.Max(0, index)).OfType<PoolEffect.Broadcast>().ToList();
        _sent.RemoveAll(broadcasts.Contains);
        return broadcasts.Select(b => _signer[b.TxHash]).ToList();
    }

    /// <summary>Relays quote <paramref name="n"/> and confirms it.</summary>
    private TxConfirmed Confirmed(int n)
    {
        var signed = Relay(n);
        Verdict(signed.Hash, BroadcastVerdict.Accepted);
        _pool.Run(s => s.OnFinalReceipt(signed.Hash, 21_000, Gwei, true, 1, "0xb1", _clock.Now, Policy));
        return Assert.IsType<TxConfirmed>(_pool.Journal[^1]);
    }

    private IReadOnlyList<PoolEffect> Take()
    {
        var taken = _sent.ToArray();
        _sent.Clear();
        return taken;
    }

    private static IDappCommand ToDapp(PoolEffect effect) => Assert.IsType<PoolEffect.ToDapp>(effect).Message;
}
