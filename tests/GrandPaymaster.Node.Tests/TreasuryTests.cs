using System.Net;
using System.Text.Json;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// The Orchestrator in a real node on anvil: GET /admin/v1/treasury shows each pool wallet read from the chain with its thresholds,
/// and /metrics exports the queue. (The Vault singleton comes with its own helper; here the view says it is not connected.)
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class TreasuryTests(NodeFixture fixture)
{
    [Fact]
    public async Task The_treasury_view_shows_every_pool_wallet_read_from_its_chain_and_the_metrics_export_the_queue()
    {
        JsonElement view = default;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            using var response = await fixture.Client.SendAsync(HttpMethod.Get, "/admin/v1/treasury", null, bearer: fixture.Client.OperatorToken);
            view = await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK);
            if (view.GetProperty("chains").EnumerateArray().Any(c => c.GetProperty("wallets").GetArrayLength() > 0)) break;
            await Task.Delay(200);
        }

        var chain = view.GetProperty("chains").EnumerateArray().First(c => c.GetProperty("chainId").GetInt64() == 31337);
        var wallet = chain.GetProperty("wallets").EnumerateArray().First();
        Assert.StartsWith("0x", wallet.GetProperty("address").GetString());
        Assert.True(System.Numerics.BigInteger.Parse(wallet.GetProperty("balanceWei").GetString()!) > 0);
        Assert.Equal("500000000000000000", wallet.GetProperty("thresholds").GetProperty("minWei").GetString()); // the test nodes' quiet thresholds (TestNode)
        Assert.Equal(JsonValueKind.Array, view.GetProperty("queue").ValueKind);
        Assert.Equal(JsonValueKind.Array, view.GetProperty("inFlight").ValueKind);

        var metrics = "";
        deadline = DateTime.UtcNow.AddSeconds(10);
        while (!metrics.Contains("gpm_rebalance_queue{priority=\"critical\"}") && DateTime.UtcNow < deadline)
        {
            metrics = await fixture.Node.Http.GetStringAsync("/metrics");
            await Task.Delay(200);
        }

        Assert.Contains("gpm_rebalance_queue{priority=\"critical\"}", metrics);
    }
}
