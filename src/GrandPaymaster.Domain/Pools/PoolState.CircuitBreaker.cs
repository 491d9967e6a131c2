using GrandPaymaster.Domain.Dapps;
using static GrandPaymaster.Domain.Pools.PoolCommands;
using static GrandPaymaster.Domain.Pools.PoolEvents;

namespace GrandPaymaster.Domain.Pools;

/// <summary>Codes of the manual circuit breaker's refusals.</summary>
public static class CircuitBreakerCodes
{
    /// <summary>Resume refused: the pool paused itself (every RPC endpoint down) and resumes by itself once they answer.</summary>
    public const string PoolAutoPaused = "pool_auto_paused";

    /// <summary>The change is a timelocked one (enabling or disabling a chain): schedule it on <c>/admin/v1/timelock</c>.</summary>
    public const string TimelockRequired = "timelock_required";
}

/// <summary>
/// The manual circuit breaker (issue 10, point 4): an operator's pause is a layer over the mode the system keeps. Pausing
/// remembers the mode it interrupted (<see cref="ModeBeforePause"/>, folded from the journal); resuming returns to it —
/// SAFE_MODE or the pool's own pause included — so a resume never silently clears a safety state the pool set. A paused pool
/// takes no new relays (quotes are refused at the edge with <c>pool_paused</c>) but keeps watching, replacing and settling its
/// in-flight transactions. A disabled pool is the timelock's: it is neither paused nor resumed by hand.
/// </summary>
public sealed partial record PoolState
{
    /// <summary>The mode an operator's pause interrupted (null when the pool is not paused by an operator).</summary>
    public PoolModeView? ModeBeforePause { get; init; }

    private bool IsManuallyPaused => Mode is { Mode: PoolMode.Paused, Cause: PauseCause.Manual };

    /// <summary>
    /// Pauses the pool at once. A pool paused by an operator already stays as it is (no event); a disabled pool is refused
    /// (<c>pool_disabled</c>: pausing it would let a later resume bring back a chain only the timelock may enable). An
    /// automatic pause or SAFE_MODE becomes a manual pause and comes back on resume.
    /// </summary>
    public (Rejection? Refused, PoolStep Step) Pause(PausePool command, DateTimeOffset now)
    {
        if (Mode.Mode == PoolMode.Disabled)
            return (new Rejection(RejectionCodes.PoolDisabled,
                $"Chain {ChainId} is disabled ({Mode.Reason}); a disabled pool serves nothing and is enabled only through the timelock (chain.enable)."), Nothing);
        if (IsManuallyPaused) return (null, Nothing);
        return (null, Step([new PoolModeChanged(ChainId, PoolMode.Paused, PauseCause.Manual, command.Meta with { At = now })]));
    }

    /// <summary>
    /// Lifts an operator's pause: back to the mode it interrupted — NORMAL, SAFE_MODE (its calm period starts over) or the
    /// pool's own pause (it ends by itself once endpoints answer) — with the operator and reason journaled. A pool that is not
    /// paused by an operator is left as it is: NORMAL and SAFE_MODE answer their mode (no event; SAFE_MODE ends only after a
    /// calm market), the pool's own pause is refused (<c>pool_auto_paused</c>), a disabled pool needs the timelock
    /// (<c>timelock_required</c>).
    /// </summary>
    public (Rejection? Refused, PoolStep Step) Resume(ResumePool command, DateTimeOffset now)
    {
        switch (Mode)
        {
            case { Mode: PoolMode.Disabled }:
                return (new Rejection(CircuitBreakerCodes.TimelockRequired,
                    $"Chain {ChainId} is disabled ({Mode.Reason}); enabling it is a timelocked change: schedule chain.enable on /admin/v1/timelock."), Nothing);
            case { Mode: PoolMode.Paused, Cause: PauseCause.Auto }:
                return (new Rejection(CircuitBreakerCodes.PoolAutoPaused,
                    $"Chain {ChainId} was paused by the pool itself ({Mode.Reason}); it resumes by itself once its RPC endpoints answer again."), Nothing);
            case { Mode: PoolMode.Paused, Cause: PauseCause.Manual }:
                // Never further than where the pause found the pool: a disabled one (paused through SetPoolMode) stays disabled.
                var back = ModeBeforePause ?? PoolModeView.Initial(ChainId);
                var cause = back.Mode is PoolMode.Normal or PoolMode.Disabled ? PauseCause.None : back.Cause;
                return (null, (this with { CalmSince = null }).Step([new PoolModeChanged(ChainId, back.Mode, cause, command.Meta with { At = now })]));
            default:
                return (null, Nothing);
        }
    }
}
