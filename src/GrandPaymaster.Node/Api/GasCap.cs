using System.Numerics;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Node.Hosting;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// The most gas a quote may carry: the chain's latest block gas limit (a transaction above it is never mined, and its hold
/// would only wait for a refusal), and never above the paymaster's own ceiling, which also stands in while the chain has
/// not told its limit yet.
/// </summary>
public static class GasCap
{
    /// <summary>Null when <paramref name="gasLimit"/> (the whole transaction's: for a forwarded call, the forwarder's) fits; else a 422.</summary>
    public static async Task<IResult?> CheckAsync(ConfiguredChain chain, BigInteger gasLimit, BigInteger ceiling, bool forwarded, CancellationToken ct)
    {
        var blockLimit = await chain.BlockGasLimit.GetAsync(ct);
        var cap = blockLimit is { } limit ? BigInteger.Min(limit, ceiling) : ceiling;
        if (gasLimit <= cap) return null;
        var what = forwarded ? "The forwarded call (forwarder.execute with the target's gas)" : "The call";
        var bound = blockLimit is { } block && block <= ceiling ? $"the latest block's gas limit on chain {chain.Name} ({block})" : $"the paymaster's ceiling ({ceiling})";
        return Exceeded($"{what} needs {gasLimit} gas, above {bound}: it could never be mined.");
    }

    /// <summary>The simulation itself ran out of the gas a block allows (the node's "gas required exceeds allowance").</summary>
    public static IResult EstimateExceeded(ConfiguredChain chain) =>
        Exceeded($"The call needs more gas than a block on chain {chain.Name} holds (the simulation ran out of gas): it could never be mined.");

    private static IResult Exceeded(string detail) =>
        Problems.Of(StatusCodes.Status422UnprocessableEntity, RejectionCodes.GasLimitExceeded, detail);
}
