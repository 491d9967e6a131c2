using System.Net;
using Akka.Actor;
using GrandPaymaster.Node.Tests.Faults;
using Microsoft.Extensions.DependencyInjection;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// Two nodes in one cluster: a core node running the oracles (cluster singletons) and an edge-only node that prices
/// quotes from the replicated market (the quote cache) without asking any gas source itself.
/// </summary>
public sealed class ReplicatedMarketTests : SingleChain
{
    private const string Target = "0x2222222222222222222222222222222222222222";
    private static readonly string[] GasMethods = ["eth_gasPrice", "eth_feeHistory", "eth_maxPriorityFeePerGas", "txpool_status"];

    [Fact]
    public async Task An_edge_only_node_prices_quotes_from_the_replicated_market_and_asks_no_gas_source()
    {
        await using var core = await TestNode.StartAsync(Path.Combine(DataDirectory, "core"), [("devnet-a", 31337, Chains.Chains[0].RpcUrl)]);
        Assert.Equal(HttpStatusCode.OK, (await core.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60))).StatusCode);
        var seed = Akka.Cluster.Cluster.Get(core.App.Services.GetRequiredService<ActorSystem>()).SelfAddress;

        // The edge reaches the chain through a proxy that counts what it is asked.
        await using var proxy = await RpcFaultProxy.StartAsync(Chains.Chains[0].RpcUrl);
        // The edge joins a cluster whose first admin exists: it is given the same admin's token.
        PaymasterClient.UseAdmin(Path.Combine(DataDirectory, "edge"), core.AdminToken);
        await using var edge = await TestNode.StartAsync(Path.Combine(DataDirectory, "edge"), [("devnet-a", 31337, proxy.Url)],
            "--Gpm:Node:Roles:0=edge", $"--Gpm:Node:SeedNodes:0={seed}");
        var ready = await edge.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60));
        Assert.True(ready.StatusCode == HttpStatusCode.OK, await ready.Content.ReadAsStringAsync());

        var (_, apiKey) = await core.Client.RegisterDappAsync(directCalls: [(31337, Target)]);
        // The registration reaches the edge's directory through the journal feed and Distributed Data, within about a second.
        var body = new { chainId = 31337, sender = "0x1111111111111111111111111111111111111111", to = Target, gasLimit = "21000", feeToken = "USDT", callType = "direct" };
        var response = await edge.Client.QuoteAsync(apiKey, body);
        for (var attempt = 0; response.StatusCode == HttpStatusCode.Unauthorized && attempt < 50; attempt++)
        {
            response.Dispose();
            await Task.Delay(100);
            response = await edge.Client.QuoteAsync(apiKey, body);
        }

        using var _ = response;
        var breakdown = (await PaymasterClient.ExpectAsync(response, HttpStatusCode.Created)).GetProperty("breakdown");

        using var market = await core.Client.SendAsync(HttpMethod.Get, "/admin/v1/market/31337", null, bearer: core.Client.OperatorToken);
        var coreMarket = await PaymasterClient.ExpectAsync(market, HttpStatusCode.OK);
        Assert.Equal(coreMarket.GetProperty("medianWeiPerGas").GetString(), breakdown.GetProperty("gasPrice").GetString());
        using var edgeView = await edge.Client.SendAsync(HttpMethod.Get, "/admin/v1/market/31337", null, bearer: edge.Client.OperatorToken);
        Assert.Equal(3, (await PaymasterClient.ExpectAsync(edgeView, HttpStatusCode.OK)).GetProperty("sources").GetArrayLength()); // the replica's sources
        Assert.All(GasMethods, method => Assert.Equal(0, proxy.Calls(method)));
    }
}
