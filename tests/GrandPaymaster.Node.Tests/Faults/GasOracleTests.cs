using System.Globalization;
using System.Net;
using System.Numerics;
using System.Text.Json;

namespace GrandPaymaster.Node.Tests.Faults;

/// <summary>
/// The gas oracle of a real node on a real anvil, its three sources each behind a fault proxy (S3): whatever one source
/// answers, the median comes from the sane ones, the operator sees which source is the outlier, and quotes keep flowing.
/// </summary>
public sealed class GasOracleTests : SingleChain
{
    private const string Target = "0x2222222222222222222222222222222222222222";

    [Fact]
    public async Task S3_one_source_silent_and_one_answering_100x_quotes_keep_the_sane_median_and_the_outlier_is_named()
    {
        await using var a = await RpcFaultProxy.StartAsync(Chains.Chains[0].RpcUrl);
        await using var b = await RpcFaultProxy.StartAsync(Chains.Chains[0].RpcUrl);
        await using var c = await RpcFaultProxy.StartAsync(Chains.Chains[0].RpcUrl);
        // One eth_gasPrice source on each proxy: the three are independent, and only the proxies' faults set them apart.
        await using var node = await TestNode.StartAsync(DataDirectory, [("devnet-a", 31337, a.Url)],
            $"--Gpm:Chains:0:RpcUrls:1={b.Url}", $"--Gpm:Chains:0:RpcUrls:2={c.Url}",
            "--Gpm:Chains:0:GasSources:0:Kind=gas-price", "--Gpm:Chains:0:GasSources:0:Endpoint=0",
            "--Gpm:Chains:0:GasSources:1:Kind=gas-price", "--Gpm:Chains:0:GasSources:1:Endpoint=1",
            "--Gpm:Chains:0:GasSources:2:Kind=gas-price", "--Gpm:Chains:0:GasSources:2:Endpoint=2");
        var ready = await node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var client = node.Client;
        var (dappId, apiKey) = await client.RegisterDappAsync(directCalls: [(31337, Target)]);
        await client.DepositAsync(dappId, "USDT", "100000000");

        var sane = await MarketWhereAsync(client, m => State(m) == "normal");
        var median = BigInteger.Parse(sane.GetProperty("medianWeiPerGas").GetString()!, CultureInfo.InvariantCulture);
        Assert.All(sane.GetProperty("sources").EnumerateArray(), s => Assert.Equal("used", s.GetProperty("verdict").GetString()));

        a.Set("eth_gasPrice", new RpcFault.Drop());
        b.Set("eth_gasPrice", new RpcFault.Result(Quantity(median * 100)));

        var degraded = await MarketWhereAsync(client, m => Source(m, 1).GetProperty("verdict").GetString() == "outlier", TimeSpan.FromSeconds(15));
        Assert.Equal(median, BigInteger.Parse(degraded.GetProperty("medianWeiPerGas").GetString()!, CultureInfo.InvariantCulture));
        await AssertQuotedAtAsync(client, apiKey, median, "normal", sourcesUsed: 2);
        // a's last answer ages out of the freshness window (10 s): c alone is left, the market is degraded, quotes go on.
        var alone = await MarketWhereAsync(client, m => State(m) == "degraded", TimeSpan.FromSeconds(20));
        Assert.Contains("no answer within", Source(alone, 0).GetProperty("lastError").GetString());
        Assert.Equal("outlier", Source(alone, 1).GetProperty("verdict").GetString());
        await AssertQuotedAtAsync(client, apiKey, median, "degraded", sourcesUsed: 1);

        // A source answering 0 is never used: with c answering 0 too, nothing sane is left and quotes stop (503), not at 0.
        c.Set("eth_gasPrice", new RpcFault.Result("\"0x0\""));
        var stale = await MarketWhereAsync(client, m => State(m) == "stale", TimeSpan.FromSeconds(15));
        Assert.Equal("out_of_bounds", Source(stale, 2).GetProperty("verdict").GetString());
        using var refused = await client.QuoteAsync(apiKey, QuoteBody());
        Assert.Equal("pool_unavailable", (await PaymasterClient.ExpectAsync(refused, HttpStatusCode.ServiceUnavailable)).GetProperty("code").GetString());

        c.Clear("eth_gasPrice");
        await MarketWhereAsync(client, m => State(m) == "degraded", TimeSpan.FromSeconds(15));
        await AssertQuotedAtAsync(client, apiKey, median, "degraded", sourcesUsed: 1);
    }

    private static object QuoteBody() => new { chainId = 31337, sender = "0x1111111111111111111111111111111111111111", to = Target, gasLimit = "21000", feeToken = "USDT", callType = "direct" };

    private static async Task AssertQuotedAtAsync(PaymasterClient client, string apiKey, BigInteger gasPrice, string marketState, int sourcesUsed)
    {
        using var response = await client.QuoteAsync(apiKey, QuoteBody());
        var breakdown = (await PaymasterClient.ExpectAsync(response, HttpStatusCode.Created)).GetProperty("breakdown");
        Assert.Equal(gasPrice.ToString(CultureInfo.InvariantCulture), breakdown.GetProperty("gasPrice").GetString());
        Assert.Equal(marketState, breakdown.GetProperty("buffer").GetProperty("marketState").GetString());
        Assert.Equal(sourcesUsed, breakdown.GetProperty("buffer").GetProperty("gasSourcesUsed").GetInt32());
    }

    private static string State(JsonElement market) => market.GetProperty("state").GetString()!;

    /// <summary>The source on endpoint <paramref name="endpoint"/> (sources are named kind@chain#endpoint).</summary>
    private static JsonElement Source(JsonElement market, int endpoint) =>
        market.GetProperty("sources").EnumerateArray().Single(s => s.GetProperty("name").GetString()!.EndsWith($"#{endpoint}", StringComparison.Ordinal));

    private static string Quantity(BigInteger value) => "\"0x" + value.ToString("x", CultureInfo.InvariantCulture).TrimStart('0') + "\"";

    private static async Task<JsonElement> MarketWhereAsync(PaymasterClient client, Func<JsonElement, bool> condition, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            using var response = await client.SendAsync(HttpMethod.Get, "/admin/v1/market/31337", null, bearer: client.OperatorToken);
            var market = await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK);
            if (condition(market)) return market;
            Assert.True(DateTime.UtcNow < deadline, $"the market never got there: {market}");
            await Task.Delay(200);
        }
    }
}
