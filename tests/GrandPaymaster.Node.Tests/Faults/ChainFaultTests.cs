using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using GrandPaymaster.Chain.Devnet;

namespace GrandPaymaster.Node.Tests.Faults;

/// <summary>
/// A real node relaying through a fault proxy in front of a real anvil. Whatever the RPC answers — late, wrong, twice
/// or not at all — every transaction mined from a pool wallet belongs to exactly one settled quote, no hold stays
/// open and the ledger law holds.
/// </summary>
public sealed class ChainFaultTests : SingleChain
{
    private const string Sender = "0x1111111111111111111111111111111111111111";
    private const string Target = "0x2222222222222222222222222222222222222222";
    private const string Secret = "provider-secret-777";
    private static readonly TimeSpan Settles = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(-32000, "upstream timed out after forwarding")]
    [InlineData(-32603, "internal error")]
    [InlineData(-32000, "already known")]
    public async Task A_broadcast_answered_with_an_error_after_it_reached_the_node_is_watched_and_settled_not_released(long code, string message)
    {
        await using var proxy = await RpcFaultProxy.StartAsync(Chains.Chains[0].RpcUrl);
        proxy.Set("eth_sendRawTransaction", new RpcFault.ForwardThenError(code, message));
        await using var node = await StartNodeAsync([proxy.Url]);
        var (client, apiKey) = await FundedDappAsync(node);

        var quoteId = await QuoteAsync(client, apiKey);
        using var execute = await client.ExecuteAsync(apiKey, quoteId, "k-" + quoteId);

        await PaymasterClient.ExpectAsync(execute, HttpStatusCode.Accepted);
        await client.WaitForStatusAsync(apiKey, quoteId, "settled", Settles);
        Assert.Equal(0, node.Journal.RowsMentioning("dapp.evt.fee-released", quoteId));
        await ChainAudit.AssertEveryPoolTransactionSettledOnceAsync(Rpc, client, apiKey, [quoteId]);
    }

    [Fact]
    public async Task Receipts_a_lagging_node_hides_for_twenty_seconds_are_found_afterwards_and_the_hold_stays_until_then()
    {
        await using var proxy = await RpcFaultProxy.StartAsync(Chains.Chains[0].RpcUrl);
        await using var node = await StartNodeAsync([proxy.Url], "--Gpm:Pools:RebroadcastAfter=00:00:03");
        var (client, apiKey) = await FundedDappAsync(node);
        proxy.Set(RpcFaultProxy.AnyMethod, new RpcFault.HideReceipts());

        var quoteId = await QuoteAsync(client, apiKey);
        using var execute = await client.ExecuteAsync(apiKey, quoteId, "k-" + quoteId);
        var txHash = (await PaymasterClient.ExpectAsync(execute, HttpStatusCode.Accepted)).GetProperty("txHash").GetString()!;
        await Chain.Devnet.DevnetFunder.WaitForReceiptAsync(Rpc, txHash); // mined on the chain itself

        // The scenario itself lasts twenty seconds: mined, receipts hidden, the pool keeps watching and releases nothing.
        var hiddenUntil = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < hiddenUntil)
        {
            Assert.Equal("submitted", (await client.QuoteStatusAsync(apiKey, quoteId)).GetProperty("status").GetString());
            await Task.Delay(250);
        }

        Assert.True(proxy.Calls("eth_getBlockReceipts") > 0);
        proxy.ClearAll();
        await client.WaitForStatusAsync(apiKey, quoteId, "settled", Settles);
        await ChainAudit.AssertEveryPoolTransactionSettledOnceAsync(Rpc, client, apiKey, [quoteId]);
    }

    [Fact]
    public async Task With_the_first_endpoint_dead_every_call_fails_over_to_the_second()
    {
        var dead = new Uri($"http://127.0.0.1:{DevnetChainSpec.FreeLoopbackPort()}/v3/{Secret}");
        await using var node = await StartNodeAsync([dead, Chains.Chains[0].RpcUrl]);
        var (client, apiKey) = await FundedDappAsync(node);

        var quoteIds = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var quoteId = await QuoteAsync(client, apiKey, gasLimit: null); // simulated: estimates fail over too
            using var execute = await client.ExecuteAsync(apiKey, quoteId, "k-" + quoteId);
            await PaymasterClient.ExpectAsync(execute, HttpStatusCode.Accepted);
            quoteIds.Add(quoteId);
        }

        foreach (var quoteId in quoteIds) await client.WaitForStatusAsync(apiKey, quoteId, "settled", Settles);
        await ChainAudit.AssertEveryPoolTransactionSettledOnceAsync(Rpc, client, apiKey, quoteIds);
        var endpoints = (await PoolsAsync(client)).GetProperty("endpoints").EnumerateArray().ToArray();
        Assert.Equal("devnet-a#0", endpoints[0].GetProperty("label").GetString());
        Assert.NotEqual("healthy", endpoints[0].GetProperty("state").GetString());
        Assert.DoesNotContain(Secret, (await PoolsAsync(client)).ToString());
    }

    [Fact]
    public async Task With_every_endpoint_dead_the_pool_pauses_itself_refuses_fast_and_resumes_when_the_chain_answers()
    {
        await using var proxy = await RpcFaultProxy.StartAsync(Chains.Chains[0].RpcUrl);
        await using var node = await StartNodeAsync([proxy.Url]);
        var (client, apiKey) = await FundedDappAsync(node);
        var earlier = await QuoteAsync(client, apiKey);
        var before = await client.BalancesAsync(apiKey);

        proxy.Set(RpcFaultProxy.AnyMethod, new RpcFault.Dead());
        await WaitForModeAsync(client, "paused", "auto");

        var stopwatch = Stopwatch.StartNew();
        using var refused = await client.QuoteAsync(apiKey, QuoteBody("21000"));
        stopwatch.Stop();
        var problem = await PaymasterClient.ExpectAsync(refused, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("pool_unavailable", problem.GetProperty("code").GetString());
        Assert.True(refused.Headers.RetryAfter is not null, "a pool_unavailable answer says when to retry");
        Assert.True(stopwatch.ElapsedMilliseconds < 50, $"refused in {stopwatch.ElapsedMilliseconds} ms");
        using var execute = await client.ExecuteAsync(apiKey, earlier, "k-" + earlier);
        Assert.Equal("pool_unavailable", (await PaymasterClient.ExpectAsync(execute, HttpStatusCode.ServiceUnavailable)).GetProperty("code").GetString());
        Assert.Equal(before.ToString(), (await client.BalancesAsync(apiKey)).ToString());

        proxy.ClearAll();
        await WaitForModeAsync(client, "normal", "none");
        var quoteId = await QuoteAsync(client, apiKey);
        using var afterwards = await client.ExecuteAsync(apiKey, quoteId, "k-" + quoteId);
        await PaymasterClient.ExpectAsync(afterwards, HttpStatusCode.Accepted);
        await client.WaitForStatusAsync(apiKey, quoteId, "settled", Settles);
        await ChainAudit.AssertEveryPoolTransactionSettledOnceAsync(Rpc, client, apiKey, [quoteId]);
        Assert.Equal(2, node.Journal.Rows("pool-31337", "pool.evt.mode-changed"));
    }

    [Fact]
    public async Task An_endpoint_that_answers_another_chain_id_is_never_used()
    {
        await using var proxy = await RpcFaultProxy.StartAsync(Chains.Chains[0].RpcUrl);
        proxy.Set("eth_chainId", new RpcFault.WrongChainId(1));
        await using var node = await StartNodeAsync([proxy.Url, Chains.Chains[0].RpcUrl]);
        var (client, apiKey) = await FundedDappAsync(node);

        var quoteId = await QuoteAsync(client, apiKey);
        using var execute = await client.ExecuteAsync(apiKey, quoteId, "k-" + quoteId);
        await PaymasterClient.ExpectAsync(execute, HttpStatusCode.Accepted);
        await client.WaitForStatusAsync(apiKey, quoteId, "settled", Settles);

        Assert.Equal(0, proxy.Calls("eth_sendRawTransaction"));
        Assert.Equal(proxy.Calls(RpcFaultProxy.AnyMethod), proxy.Calls("eth_chainId"));
        var endpoints = (await PoolsAsync(client)).GetProperty("endpoints").EnumerateArray().ToArray();
        // Marked wrongchain once the pool's endpoint set checked it; an endpoint set that has been served by the healthier
        // second endpoint so far may not have asked it yet (unverified). Either way it was never used nor shown as up.
        Assert.Contains(endpoints[0].GetProperty("state").GetString(), new[] { "wrongchain", "unverified" });
        await ChainAudit.AssertEveryPoolTransactionSettledOnceAsync(Rpc, client, apiKey, [quoteId]);
    }

    [Fact]
    public async Task A_node_error_carrying_a_url_never_reaches_an_answer_the_journal_or_the_pool_view()
    {
        await using var proxy = await RpcFaultProxy.StartAsync(Chains.Chains[0].RpcUrl);
        proxy.Set("eth_sendRawTransaction", new RpcFault.Error(-32000, $"insufficient funds for gas * price + value; see https://rpc.example.com/v3/{Secret}"));
        await using var node = await StartNodeAsync([new Uri(proxy.Url, $"/v3/{Secret}")]);
        var (client, apiKey) = await FundedDappAsync(node);

        var quoteId = await QuoteAsync(client, apiKey);
        using var execute = await client.ExecuteAsync(apiKey, quoteId, "k-" + quoteId);
        var answer = await execute.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, execute.StatusCode);
        Assert.Contains("relay_failed", answer);
        var status = await client.QuoteStatusAsync(apiKey, quoteId);
        Assert.Equal("released", status.GetProperty("status").GetString());
        foreach (var text in new[] { answer, status.ToString(), (await PoolsAsync(client)).ToString() })
        {
            Assert.DoesNotContain(Secret, text);
            Assert.DoesNotContain("rpc.example.com", text);
        }

        Assert.Equal(0, node.Journal.RowsMentioningAnywhere(Secret));
        Assert.Equal(0, node.Journal.RowsMentioningAnywhere("rpc.example.com"));
        Assert.Equal(1, node.Journal.RowsMentioning("pool.evt.tx-broadcast-failed", quoteId));
        await ChainAudit.AssertEveryPoolTransactionSettledOnceAsync(Rpc, client, apiKey, [quoteId]);
    }

    private async Task<TestNode> StartNodeAsync(IReadOnlyList<Uri> rpcUrls, params string[] extra)
    {
        var args = rpcUrls.Skip(1).Select((url, i) => string.Create(CultureInfo.InvariantCulture, $"--Gpm:Chains:0:RpcUrls:{i + 1}={url}")).Concat(extra).ToArray();
        var node = await TestNode.StartAsync(DataDirectory, [("devnet-a", 31337, rpcUrls[0])], args);
        var ready = await node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60));
        Assert.True(ready.StatusCode == HttpStatusCode.OK, await ready.Content.ReadAsStringAsync());
        await WaitForModeAsync(node.Client, "normal", "none");
        return node;
    }

    private static async Task<(PaymasterClient Client, string ApiKey)> FundedDappAsync(TestNode node)
    {
        var client = node.Client;
        var (dappId, apiKey) = await client.RegisterDappAsync(directCalls: [(31337, Target)]);
        await client.DepositAsync(dappId, "USDT", "100000000");
        return (client, apiKey);
    }

    private static object QuoteBody(string? gasLimit) => gasLimit is null
        ? new { chainId = 31337, sender = Sender, to = Target, feeToken = "USDT", callType = "direct" }
        : new { chainId = 31337, sender = Sender, to = Target, gasLimit, feeToken = "USDT", callType = "direct" };

    private static async Task<string> QuoteAsync(PaymasterClient client, string apiKey, string? gasLimit = "21000")
    {
        using var response = await client.QuoteAsync(apiKey, QuoteBody(gasLimit));
        return (await PaymasterClient.ExpectAsync(response, HttpStatusCode.Created)).GetProperty("quoteId").GetString()!;
    }

    private static async Task<JsonElement> PoolsAsync(PaymasterClient client)
    {
        using var response = await client.SendAsync(HttpMethod.Get, "/admin/v1/pools", null, bearer: client.OperatorToken);
        return (await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK)).EnumerateArray().Single(p => p.GetProperty("chainId").GetInt64() == 31337);
    }

    private static async Task WaitForModeAsync(PaymasterClient client, string mode, string cause)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var pool = await PoolsAsync(client);
            if (pool.GetProperty("mode").GetString() == mode && pool.GetProperty("cause").GetString() == cause) return;
            Assert.True(DateTime.UtcNow < deadline, $"pool never became {mode}/{cause}: {pool}");
            await Task.Delay(100);
        }
    }
}
