using System.Numerics;

namespace GrandPaymaster.Chain.Rpc;

/// <summary>One independent opinion on a chain's gas price, in wei per gas.</summary>
public interface IGasSource
{
    /// <summary>Stable name, shown to operators and in alerts.</summary>
    string Name { get; }

    Task<BigInteger> ReadAsync(CancellationToken ct);
}

/// <summary>The kinds of RPC gas source (devnet defaults: one of each, each on its own endpoint).</summary>
public static class GasSourceKinds
{
    /// <summary><c>eth_gasPrice</c>.</summary>
    public const string GasPrice = "gas-price";

    /// <summary><c>eth_feeHistory</c>: the next block's base fee plus the given percentile of the last block's tips.</summary>
    public const string FeeHistory = "fee-history";

    /// <summary><c>eth_maxPriorityFeePerGas</c> plus the latest block's base fee.</summary>
    public const string PriorityFee = "priority-fee";

    public static readonly IReadOnlyList<string> All = [GasPrice, FeeHistory, PriorityFee];

    /// <summary>A source of <paramref name="kind"/> on <paramref name="client"/>, used only while that endpoint answers <paramref name="chainId"/>.</summary>
    public static IGasSource Create(string kind, string name, EthRpcClient client, long chainId, TimeProvider clock, double feeHistoryPercentile = 50) =>
        new ChainCheckedGasSource(kind switch
        {
            GasPrice => new GasPriceSource(name, client),
            FeeHistory => new FeeHistorySource(name, client, feeHistoryPercentile),
            PriorityFee => new PriorityFeeSource(name, client),
            _ => throw new ArgumentException($"Unknown gas source kind '{kind}' (known: {string.Join(", ", All)}).", nameof(kind)),
        }, new ChainIdGuard(client, chainId, clock));
}

public sealed class GasPriceSource(string name, EthRpcClient client) : IGasSource
{
    public string Name => name;

    public Task<BigInteger> ReadAsync(CancellationToken ct) => client.GasPriceAsync(ct);
}

public sealed class FeeHistorySource(string name, EthRpcClient client, double percentile) : IGasSource
{
    public string Name => name;

    public async Task<BigInteger> ReadAsync(CancellationToken ct)
    {
        var history = await client.FeeHistoryAsync(1, BlockTag.Latest, [percentile], ct);
        // baseFeePerGas has one entry more than the blocks asked for: the next block's base fee.
        var nextBaseFee = history.BaseFeePerGas.Count > 0 ? history.BaseFeePerGas[^1] : throw new FormatException("eth_feeHistory without base fees");
        var tip = history.Reward.Count > 0 && history.Reward[^1].Count > 0 ? history.Reward[^1][0] : BigInteger.Zero;
        return nextBaseFee + tip;
    }
}

public sealed class PriorityFeeSource(string name, EthRpcClient client) : IGasSource
{
    public string Name => name;

    public async Task<BigInteger> ReadAsync(CancellationToken ct)
    {
        var tip = client.MaxPriorityFeePerGasAsync(ct);
        var block = await client.GetBlockByNumberAsync(BlockTag.Latest, ct) ?? throw new FormatException("no latest block");
        return (block.BaseFeePerGas ?? BigInteger.Zero) + await tip;
    }
}

/// <summary>
/// Makes sure an endpoint answers the chain's id before it is believed (asked on first use and every <see cref="Recheck"/>):
/// a price from another chain is not a price of this one, so whatever reads through the guard fails instead.
/// </summary>
public sealed class ChainIdGuard(EthRpcClient client, long chainId, TimeProvider clock)
{
    public static readonly TimeSpan Recheck = TimeSpan.FromSeconds(30);
    private DateTimeOffset? _verifiedAt;

    public EthRpcClient Client => client;

    public async Task EnsureAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (_verifiedAt is { } at && now - at < Recheck) return;
        var answered = await client.ChainIdAsync(ct);
        if (answered != chainId)
        {
            _verifiedAt = null;
            throw new InvalidOperationException($"the endpoint answers chain id {answered}, not {chainId}");
        }

        _verifiedAt = now;
    }
}

/// <summary>A gas source read only through its endpoint's <see cref="ChainIdGuard"/>.</summary>
public sealed class ChainCheckedGasSource(IGasSource inner, ChainIdGuard guard) : IGasSource
{
    public string Name => inner.Name;

    public async Task<BigInteger> ReadAsync(CancellationToken ct)
    {
        await guard.EnsureAsync(ct);
        return await inner.ReadAsync(ct);
    }
}
