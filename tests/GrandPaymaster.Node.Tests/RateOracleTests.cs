using System.Net;
using GrandPaymaster.Chain.Devnet;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// Prices from HTTP feeds (rates, and a gas API), on a real node with two real chains: the quote is priced at the feed's
/// rate, and a token the feed stops pricing stops being quoted on that chain only once its last rate is no longer fresh.
/// </summary>
public sealed class RateOracleTests : IAsyncLifetime
{
    private const string Target = "0x2222222222222222222222222222222222222222";
    private readonly HttpClient _http = new();
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "gpm-rate-test-" + Guid.NewGuid().ToString("N"));
    private DevnetLauncher _chains = null!;
    private WebApplication _feed = null!;
    private volatile string _prices = """{"USDT":"3100000000","VCN":"310000000000000000000000"}""";

    public async Task InitializeAsync()
    {
        _chains = await DevnetLauncher.StartAsync(DevnetChainSpec.DefaultsOnFreePorts(), _http);
        await TestContracts.DeployAsync(_chains, _http);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _feed = builder.Build();
        _feed.MapGet("/prices", () => Results.Content(_prices, "application/json"));
        _feed.MapGet("/gas", () => Results.Content("""{"fast":{"weiPerGas":"1"},"weiPerGas":"7000000000"}""", "application/json"));
        await _feed.StartAsync();
    }

    [Fact]
    public async Task A_token_the_feed_stops_pricing_is_refused_on_that_chain_only_once_its_rate_is_stale_and_the_feed_rate_prices_quotes()
    {
        await using var node = await TestNode.StartAsync(_dataDirectory, TestNode.ChainsOf(_chains),
            "--Gpm:Chains:0:RateSources:0:Kind=http", $"--Gpm:Chains:0:RateSources:0:Url={_feed.Urls.First()}/prices",
            "--Gpm:Market:Hocon=gpm.market.rates.fresh-for = 2s");
        Assert.Equal(HttpStatusCode.OK, (await node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60))).StatusCode);
        var client = node.Client;
        var (_, apiKey) = await client.RegisterDappAsync(directCalls: [(31337, Target), (31338, Target)]);

        Assert.Equal("3100000000", await QuotedRateAsync(client, apiKey, 31337, "USDT"));
        Assert.Equal("310000000000000000000000", await QuotedRateAsync(client, apiKey, 31337, "VCN"));
        Assert.Equal("3000000000", await QuotedRateAsync(client, apiKey, 31338, "USDT")); // configured

        _prices = """{"USDT":"3200000000"}""";
        var deadline = DateTime.UtcNow.AddSeconds(15);
        HttpResponseMessage refused;
        while (true)
        {
            refused = await client.QuoteAsync(apiKey, Body(31337, "VCN"));
            if (refused.StatusCode != HttpStatusCode.Created) break;
            Assert.True(DateTime.UtcNow < deadline, "the VCN rate never went stale");
            refused.Dispose();
            await Task.Delay(200);
        }

        using (refused)
            Assert.Equal("rate_unavailable", (await PaymasterClient.ExpectAsync(refused, HttpStatusCode.ServiceUnavailable)).GetProperty("code").GetString());
        Assert.Equal("3200000000", await QuotedRateAsync(client, apiKey, 31337, "USDT"));
        Assert.Equal("300000000000000000000000", await QuotedRateAsync(client, apiKey, 31338, "VCN"));

        _prices = """{"USDT":"3200000000","VCN":"320000000000000000000000"}""";
        await AssertEventuallyAsync(async () => await QuotedRateAsync(client, apiKey, 31337, "VCN") == "320000000000000000000000");
    }

    [Fact]
    public async Task A_chain_priced_by_an_http_gas_api_quotes_at_its_price()
    {
        await using var node = await TestNode.StartAsync(_dataDirectory, TestNode.ChainsOf(_chains),
            "--Gpm:Chains:1:GasSources:0:Kind=http", $"--Gpm:Chains:1:GasSources:0:Url={_feed.Urls.First()}/gas");
        Assert.Equal(HttpStatusCode.OK, (await node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60))).StatusCode);
        var (_, apiKey) = await node.Client.RegisterDappAsync(directCalls: [(31338, Target)]);

        using var response = await node.Client.QuoteAsync(apiKey, Body(31338, "USDT"));
        var breakdown = (await PaymasterClient.ExpectAsync(response, HttpStatusCode.Created)).GetProperty("breakdown");

        Assert.Equal("7000000000", breakdown.GetProperty("gasPrice").GetString());
        Assert.Equal("degraded", breakdown.GetProperty("buffer").GetProperty("marketState").GetString()); // one source
    }

    private static object Body(long chainId, string token) =>
        new { chainId, sender = "0x1111111111111111111111111111111111111111", to = Target, gasLimit = "21000", feeToken = token, callType = "direct" };

    private static async Task<string?> QuotedRateAsync(PaymasterClient client, string apiKey, long chainId, string token)
    {
        using var response = await client.QuoteAsync(apiKey, Body(chainId, token));
        if (response.StatusCode != HttpStatusCode.Created) return null;
        var quote = await PaymasterClient.ExpectAsync(response, HttpStatusCode.Created);
        return quote.GetProperty("breakdown").GetProperty("rate").GetProperty("unitsPerNativeCoin").GetString();
    }

    private static async Task AssertEventuallyAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "never happened");
            await Task.Delay(200);
        }
    }

    public async Task DisposeAsync()
    {
        await _feed.DisposeAsync();
        await _chains.DisposeAsync();
        _http.Dispose();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
