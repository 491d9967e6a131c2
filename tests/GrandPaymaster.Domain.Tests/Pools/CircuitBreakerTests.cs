using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Pools;
using static GrandPaymaster.Domain.Pools.PoolCommands;
using static GrandPaymaster.Domain.Pools.PoolEvents;

namespace GrandPaymaster.Domain.Tests.Pools;

/// <summary>
/// The manual circuit breaker: an operator's pause is a layer over the mode the system keeps, so resuming returns to what the
/// pause interrupted (SAFE_MODE and the pool's own pause included) and never enables a disabled chain.
/// </summary>
public sealed class CircuitBreakerTests
{
    private static readonly ChainId Chain = new(31337);
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly PoolPolicy Policy = new();
    private static readonly BigInteger Gwei = 1_000_000_000;
    private static readonly Meta Alice = new(Start - TimeSpan.FromMinutes(3), "operator:alice", "planned upgrade", "c-1");

    [Fact]
    public void A_pause_is_journaled_with_the_operator_and_reason_on_the_pools_clock_and_a_resume_serves_again()
    {
        var (refused, paused) = PoolState.Empty(Chain).Pause(new PausePool(Chain, Alice), Start);

        Assert.Null(refused);
        var changed = Assert.IsType<PoolModeChanged>(Assert.Single(paused.Events));
        Assert.Equal((PoolMode.Paused, PauseCause.Manual, "operator:alice", "planned upgrade", Start), (changed.Mode, changed.Cause, changed.Meta.Actor, changed.Meta.Reason, changed.Meta.At));
        Assert.False(paused.State.Mode.Serves);
        Assert.Equal(RejectionCodes.PoolPaused, DappState.PoolRefusal(paused.State.Mode)!.Code);
        Assert.Contains(paused.Effects, e => e is PoolEffect.PublishMode { View.Mode: PoolMode.Paused });

        var (_, again) = paused.State.Pause(new PausePool(Chain, Alice), Start);
        Assert.Empty(again.Events);

        var (_, resumed) = paused.State.Resume(new ResumePool(Chain, Alice with { Reason = "upgrade done" }), Start + TimeSpan.FromMinutes(5));
        Assert.Equal((PoolMode.Normal, PauseCause.None, "upgrade done"), (resumed.State.Mode.Mode, resumed.State.Mode.Cause, resumed.State.Mode.Reason));
        Assert.Null(resumed.State.ModeBeforePause);
    }

    [Fact]
    public void Resuming_a_pause_taken_in_safe_mode_returns_to_safe_mode_and_its_calm_period_starts_over()
    {
        var safe = PoolState.Empty(Chain).ObserveMarket(new ObserveMarket(Chain, 50 * Gwei, 12 * Gwei, 100, 3, Start), Start, Policy).State;
        Assert.Equal(PoolMode.SafeMode, safe.Mode.Mode);

        var paused = safe.Pause(new PausePool(Chain, Alice), Start).Step.State;
        var (refused, resumed) = paused.Resume(new ResumePool(Chain, Alice with { Reason = "back" }), Start + TimeSpan.FromSeconds(30));

        Assert.Null(refused);
        Assert.Equal((PoolMode.SafeMode, PauseCause.Auto), (resumed.State.Mode.Mode, resumed.State.Mode.Cause));
        Assert.Null(resumed.State.CalmSince);
        // Calm from now on: SAFE_MODE ends only after a full calm period.
        var calm = new ObserveMarket(Chain, 10 * Gwei, 10 * Gwei, 100, 3, Start + TimeSpan.FromSeconds(31));
        Assert.Empty(resumed.State.ObserveMarket(calm, calm.At, Policy).Events);
    }

    [Fact]
    public void Resuming_a_pause_taken_while_every_endpoint_was_down_returns_to_the_pools_own_pause_which_ends_when_they_answer()
    {
        var down = PoolState.Empty(Chain).ObserveEndpoints(false, Start, Policy).State;
        Assert.Equal((PoolMode.Paused, PauseCause.Auto), (down.Mode.Mode, down.Mode.Cause));
        var paused = down.Pause(new PausePool(Chain, Alice), Start).Step.State;
        Assert.Equal(PauseCause.Manual, paused.Mode.Cause);
        // An operator's pause is not lifted by endpoints coming back.
        Assert.Empty(paused.ObserveEndpoints(true, Start, Policy).Then(s => s.ObserveEndpoints(true, Start + TimeSpan.FromMinutes(1), Policy)).Events);

        var resumed = paused.Resume(new ResumePool(Chain, Alice), Start + TimeSpan.FromMinutes(2)).Step.State;

        Assert.Equal((PoolMode.Paused, PauseCause.Auto), (resumed.Mode.Mode, resumed.Mode.Cause));
        var answering = resumed.ObserveEndpoints(true, Start + TimeSpan.FromMinutes(3), Policy).State
            .ObserveEndpoints(true, Start + TimeSpan.FromMinutes(3) + Policy.ResumeAfter, Policy);
        Assert.Equal(PoolMode.Normal, answering.State.Mode.Mode);
    }

    [Fact]
    public void The_pools_own_pause_is_not_resumed_by_hand()
    {
        var down = PoolState.Empty(Chain).ObserveEndpoints(false, Start, Policy).State;

        var (refused, step) = down.Resume(new ResumePool(Chain, Alice), Start);

        Assert.Equal(CircuitBreakerCodes.PoolAutoPaused, refused!.Code);
        Assert.Empty(step.Events);
    }

    [Fact]
    public void A_disabled_pool_is_neither_paused_nor_resumed_by_hand()
    {
        var disabled = PoolState.Empty(Chain).SetMode(new SetPoolMode(Chain, PoolMode.Disabled, Alice), Start).State;

        var (pauseRefused, paused) = disabled.Pause(new PausePool(Chain, Alice), Start);
        var (resumeRefused, resumed) = disabled.Resume(new ResumePool(Chain, Alice), Start);

        Assert.Equal(RejectionCodes.PoolDisabled, pauseRefused!.Code);
        Assert.Equal(CircuitBreakerCodes.TimelockRequired, resumeRefused!.Code);
        Assert.Empty(paused.Events);
        Assert.Empty(resumed.Events);
    }

    [Fact]
    public void Resume_of_a_serving_pool_changes_nothing()
    {
        var safe = PoolState.Empty(Chain).ObserveMarket(new ObserveMarket(Chain, 50 * Gwei, 12 * Gwei, 100, 3, Start), Start, Policy).State;

        Assert.Empty(PoolState.Empty(Chain).Resume(new ResumePool(Chain, Alice), Start).Step.Events);
        Assert.Empty(safe.Resume(new ResumePool(Chain, Alice), Start).Step.Events);
    }

    [Fact]
    public void Enabling_lifts_a_disable_and_nothing_else()
    {
        var enable = new SetPoolMode(Chain, PoolMode.Normal, Alice, OnlyFrom: PoolMode.Disabled);
        var paused = PoolState.Empty(Chain).Pause(new PausePool(Chain, Alice), Start).Step.State;
        var disabled = paused.SetMode(new SetPoolMode(Chain, PoolMode.Disabled, Alice), Start).State;

        Assert.Empty(paused.SetMode(enable, Start).Events);
        Assert.Null(disabled.ModeBeforePause);
        Assert.Equal(PoolMode.Normal, disabled.SetMode(enable, Start).State.Mode.Mode);
    }

    [Fact]
    public void The_mode_a_pause_interrupted_is_folded_from_the_journal()
    {
        var safe = PoolState.Empty(Chain).ObserveMarket(new ObserveMarket(Chain, 50 * Gwei, 12 * Gwei, 100, 3, Start), Start, Policy);
        var paused = safe.State.Pause(new PausePool(Chain, Alice), Start).Step;

        var folded = safe.Events.Concat(paused.Events).Aggregate(PoolState.Empty(Chain), (s, e) => s.Apply(e)).AfterRecovery();

        Assert.Equal(PoolMode.SafeMode, folded.ModeBeforePause!.Mode);
        Assert.Equal(paused.State.AfterRecovery(), folded);
    }
}
