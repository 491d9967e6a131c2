using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Pools;
using GrandPaymaster.Domain.Timelock;
using GrandPaymaster.Node.Api;
using GrandPaymaster.Node.Hosting;

namespace GrandPaymaster.Node.Timelock;

/// <summary>
/// <c>chain.disable {chainId}</c>: the chain's pool takes no new quotes or relays; in-flight transactions still settle. Refused as
/// stale (409 <c>timelock_stale</c>) when the chain was enabled after it was scheduled.
/// </summary>
public sealed class ChainDisableChange(ChainRpcDirectory chains, IRequiredActor<ChainPoolRegion> pools, PoolModeDirectory modes)
    : ChainModeChange(chains, pools, modes)
{
    public override string Kind => "chain.disable";
    protected override PoolMode Target => PoolMode.Disabled;
    protected override PoolMode? OnlyFrom => null;
}

/// <summary>
/// <c>chain.enable {chainId}</c>: lifts a disable (only a disable: it never resumes an operator's pause or the pool's own). Refused
/// as stale (409 <c>timelock_stale</c>) when that disable came after it was scheduled: its delay has to run after the disable.
/// </summary>
public sealed class ChainEnableChange(ChainRpcDirectory chains, IRequiredActor<ChainPoolRegion> pools, PoolModeDirectory modes)
    : ChainModeChange(chains, pools, modes)
{
    public override string Kind => "chain.enable";
    protected override PoolMode Target => PoolMode.Normal;
    protected override PoolMode? OnlyFrom => PoolMode.Disabled;
}

/// <summary>
/// A chain pool's mode set through the pool's own command (<see cref="PoolCommands.SetPoolMode"/>), journaled by the pool. The rule
/// against stale changes: a chain.enable / chain.disable scheduled before the chain was last disabled or enabled is refused
/// (<c>timelock_stale</c>) if executing it would change the mode, since its delay ran for another situation. The pool decides it
/// against its own record (the time of its last disable or enable, <see cref="PoolState.StaleRefusal"/>) in the same step as the
/// write, so nothing can land between the check and the change.
/// </summary>
public abstract class ChainModeChange(ChainRpcDirectory chains, IRequiredActor<ChainPoolRegion> pools, PoolModeDirectory modes) : ITimelockedChange
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public abstract string Kind { get; }
    protected abstract PoolMode Target { get; }
    protected abstract PoolMode? OnlyFrom { get; }

    public Task<TimelockCheck> CheckAsync(JsonRequest parameters, CancellationToken ct)
    {
        parameters.Allow("chainId");
        var chainId = parameters.ChainId("chainId");
        if (!parameters.IsValid) return Task.FromResult(TimelockCheck.Invalid);
        if (chains.Find(chainId!.Value) is null)
            return Task.FromResult(TimelockCheck.Refuse(Problems.Of(StatusCodes.Status400BadRequest, "unknown_chain", $"Chain {chainId} is not served by this paymaster.")));
        return Task.FromResult(TimelockCheck.Valid(new { chainId = chainId.Value.Value }, $"chain {chainId}"));
    }

    public async Task<string> ExecuteAsync(JsonElement parameters, TimelockChange change, Meta meta, CancellationToken ct)
    {
        var chainId = new ChainId(parameters.GetProperty("chainId").GetInt64());
        object reply;
        try
        {
            reply = await (await pools.GetAsync(ct)).Ask<object>(new PoolCommands.SetPoolMode(chainId, Target, meta, OnlyFrom, change.ScheduledAt), Timeout, ct);
        }
        catch (AskTimeoutException)
        {
            throw new TimelockExecutionException($"The pool of chain {chainId} did not answer within {Timeout.TotalSeconds:0} s.");
        }

        var view = reply as PoolModeView ?? throw (reply is DappReplies.Rejected r
            ? new TimelockExecutionException(r.Rejection.Message, r.Rejection.Code == TimelockCodes.Stale ? TimelockCodes.Stale : null)
            : new TimelockExecutionException($"Unexpected answer {reply.GetType().Name}."));
        // This edge applies the answer at once; other nodes learn it through replication a moment later.
        modes.Set(view);
        return view.Mode == Target
            ? $"the pool of chain {chainId} is {PoolViews.ModeName(view.Mode)}"
            : $"chain {chainId} was not disabled ({PoolViews.ModeName(view.Mode)}, {PoolViews.CauseName(view.Cause)}); nothing changed";
    }
}
