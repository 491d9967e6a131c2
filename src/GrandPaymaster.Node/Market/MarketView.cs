using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Node.Hosting;
using Microsoft.Extensions.Options;

namespace GrandPaymaster.Node.Market;

/// <summary>Fee inputs of the market (DESIGN.md §3): gas prices per chain and native → token rates.</summary>
public sealed class MarketOptions
{
    /// <summary>Buffer on top of the gas price, in basis points (2000 = 20%). The market issue makes it dynamic.</summary>
    public int BufferBps { get; set; } = 2_000;

    /// <summary>How often each chain's gas price is read.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Token base units per whole native coin, per chain id and token symbol, as decimal strings:
    /// <c>Rates:31337:USDT = "3000000000"</c> is 1 ETH = 3,000 USDT. A chain without an entry uses <see cref="DefaultRates"/>.
    /// </summary>
    public Dictionary<string, Dictionary<string, string>> Rates { get; set; } = new();

    public Dictionary<string, string> DefaultRates { get; set; } = new()
    {
        ["USDT"] = "3000000000", // 1 native coin = 3,000 USDT (6 decimals)
        ["VCN"] = "300000000000000000000000", // 1 native coin = 300,000 VCN (18 decimals)
    };
}

/// <summary>What a quote is priced with. Read from a local snapshot: never an RPC call per quote.</summary>
public interface IMarketView
{
    /// <summary>The chain's gas price, or null while it has not been read yet (or the chain is not configured).</summary>
    Wei? GasPrice(ChainId chainId);

    ConversionRate? Rate(ChainId chainId, FeeToken token);

    Bps Buffer(ChainId chainId);
}

/// <summary>
/// Market view v1: gas prices from <c>eth_gasPrice</c>, polled per chain into an in-memory snapshot;
/// rates from configuration. The gas-oracle issue replaces this with the three-source median.
/// </summary>
public sealed class PolledMarketView(ChainRpcDirectory chains, IOptions<MarketOptions> options, ILogger<PolledMarketView> log)
    : BackgroundService, IMarketView
{
    private readonly ConcurrentDictionary<long, Wei> _gasPrices = new();

    // Rates are configuration: parsed once per chain and token, not on every quote.
    private readonly ConcurrentDictionary<(long, FeeToken), ConversionRate?> _rates = new();

    public Wei? GasPrice(ChainId chainId) => _gasPrices.TryGetValue(chainId.Value, out var price) ? price : null;

    public ConversionRate? Rate(ChainId chainId, FeeToken token) => _rates.GetOrAdd((chainId.Value, token), key => ConfiguredRate(new ChainId(key.Item1), key.Item2));

    private ConversionRate? ConfiguredRate(ChainId chainId, FeeToken token)
    {
        var rates = options.Value.Rates.GetValueOrDefault(chainId.ToString()) ?? options.Value.DefaultRates;
        return rates.TryGetValue(token.Symbol(), out var text) && BigInteger.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var units) && units > 0
            ? new ConversionRate(token, units)
            : null;
    }

    public Bps Buffer(ChainId chainId) => new(options.Value.BufferBps);

    /// <summary>Reads every chain once; the node host waits for this before it serves quotes.</summary>
    public Task RefreshAsync(CancellationToken ct) => Task.WhenAll(chains.All.Select(chain => RefreshAsync(chain, ct)));

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(options.Value.PollInterval);
        do
        {
            await RefreshAsync(ct);
        } while (await timer.WaitForNextTickAsync(ct));
    }

    private async Task RefreshAsync(ConfiguredChain chain, CancellationToken ct)
    {
        try
        {
            _gasPrices[chain.ChainId] = new Wei(await chain.Endpoints.CallAsync((client, t) => client.GasPriceAsync(t), ct));
        }
        catch (Chain.Rpc.RpcException e)
        {
            log.LogDebug("Gas price of {Chain} failed: {Error}", chain.Name, Chain.Rpc.RpcRedaction.Redact(e.Message));
        }
    }
}
