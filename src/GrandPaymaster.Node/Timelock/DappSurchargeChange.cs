using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Dapps;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Timelock;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Node.Api;
using static GrandPaymaster.Domain.Dapps.DappCommands;
using static GrandPaymaster.Domain.Dapps.DappReplies;

namespace GrandPaymaster.Node.Timelock;

/// <summary>
/// <c>dapp.surcharge {dappId, surchargeBps}</c>: the dApp's surcharge (within the 20–50 % bounds), set through its policy command
/// (<see cref="SetPolicy"/>) with only the surcharge (the dApp keeps the rest of its policy as it is then); the dApp journals it.
/// </summary>
public sealed class DappSurchargeChange(IRequiredActor<DappRegion> dapps) : ITimelockedChange
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public string Kind => "dapp.surcharge";

    public async Task<TimelockCheck> CheckAsync(JsonRequest parameters, CancellationToken ct)
    {
        parameters.Allow("dappId", "surchargeBps");
        var dappText = parameters.String("dappId", required: true, maxLength: 64);
        var surcharge = parameters.Integer("surchargeBps", required: true, Bps.MinSurcharge.Value, Bps.MaxSurcharge.Value);
        DappId id = default;
        if (dappText is not null && !DappId.TryParse(dappText, out id)) parameters.Error("dappId", "is not a dApp id");
        if (!parameters.IsValid) return TimelockCheck.Invalid;
        var (_, missing) = await EdgeAsk.AskAsync<PolicyView>(await dapps.GetAsync(ct), new GetPolicy(id, null), Timeout, ct);
        return missing is not null ? TimelockCheck.Refuse(missing) : TimelockCheck.Valid(new { dappId = id.Value, surchargeBps = surcharge!.Value }, $"dApp {id}");
    }

    public async Task<string> ExecuteAsync(JsonElement parameters, TimelockChange change, Meta meta, CancellationToken ct)
    {
        var id = DappId.Parse(parameters.GetProperty("dappId").GetString()!);
        var surcharge = new Bps(parameters.GetProperty("surchargeBps").GetInt32());
        var region = await dapps.GetAsync(ct);
        var current = await AskAsync(region, new GetPolicy(id, null), ct);
        if (current.Surcharge == surcharge) return $"the surcharge of dApp {id} was already {surcharge.Value} bps; nothing changed";
        // Only the surcharge: the dApp keeps the policy it has when the command arrives (a policy PUT since the read above stays).
        var set = await AskAsync(region, new SetPolicy(id, Policy: null, surcharge, meta), ct);
        return $"the surcharge of dApp {id} is {set.Surcharge.Value} bps (was {current.Surcharge.Value})";
    }

    private static async Task<PolicyView> AskAsync(IActorRef region, IDappCommand command, CancellationToken ct)
    {
        try
        {
            return await region.Ask<object>(command, Timeout, ct) switch
            {
                PolicyView view => view,
                Rejected rejected => throw new TimelockExecutionException($"{rejected.Rejection.Code}: {rejected.Rejection.Message}"),
                var other => throw new TimelockExecutionException($"Unexpected answer {other.GetType().Name}."),
            };
        }
        catch (AskTimeoutException)
        {
            throw new TimelockExecutionException($"dApp {command.DappId} did not answer within {Timeout.TotalSeconds:0} s.");
        }
    }
}
