using System.Net;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// The manual circuit breaker through the admin API: an operator pauses and resumes a chain's pool at once; the change is journaled
/// with who and why; a paused pool refuses quotes and keeps settling what it already sent.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class PoolAdminTests(NodeFixture fixture)
{
    [Fact]
    public async Task A_pool_paused_by_an_operator_refuses_quotes_at_once_and_serves_again_when_resumed()
    {
        var client = fixture.Client;
        var (_, apiKey) = await client.RegisterDappAsync(directCalls: [(31338, "0x2222222222222222222222222222222222222222")]);
        try
        {
            var paused = await BreakerAsync(client, "pause", "planned node upgrade");
            Assert.Equal((31338, "paused", "manual", "planned node upgrade"), (paused.GetProperty("chainId").GetInt64(), paused.GetProperty("mode").GetString(),
                paused.GetProperty("cause").GetString(), paused.GetProperty("reason").GetString()));
            var shown = await PoolAsync(client);
            Assert.Equal(("paused", "manual"), (shown.GetProperty("mode").GetString(), shown.GetProperty("cause").GetString()));

            using var refused = await QuoteAsync(client, apiKey);
            var problem = await PaymasterClient.ExpectAsync(refused, HttpStatusCode.ServiceUnavailable);
            Assert.Equal("pool_paused", problem.GetProperty("code").GetString());
            Assert.Contains("planned node upgrade", problem.GetProperty("detail").GetString());
            // Pausing again changes nothing and journals nothing.
            await BreakerAsync(client, "pause", "planned node upgrade, again");
        }
        finally
        {
            var resumed = await BreakerAsync(client, "resume", "upgrade done");
            Assert.Equal(("normal", "none"), (resumed.GetProperty("mode").GetString(), resumed.GetProperty("cause").GetString()));
        }

        using var served = await QuoteAsync(client, apiKey);
        await PaymasterClient.ExpectAsync(served, HttpStatusCode.Created);
        Assert.Equal(1, fixture.Node.Journal.RowsMentioning("pool.evt.mode-changed", "operator:tester\",\"Reason\":\"planned node upgrade"));
        Assert.Equal(0, fixture.Node.Journal.RowsMentioning("pool.evt.mode-changed", "planned node upgrade, again"));
        Assert.Equal(1, fixture.Node.Journal.RowsMentioning("pool.evt.mode-changed", "operator:tester\",\"Reason\":\"upgrade done"));
        // Resuming a pool that is not paused changes nothing.
        Assert.Equal("normal", (await BreakerAsync(client, "resume", "nothing to resume")).GetProperty("mode").GetString());
        Assert.Equal(0, fixture.Node.Journal.RowsMentioning("pool.evt.mode-changed", "nothing to resume"));
    }

    [Fact]
    public async Task A_transaction_sent_before_a_pause_is_still_watched_and_settles_while_the_pool_is_paused()
    {
        var client = fixture.Client;
        var rpc = fixture.Rpc(31338);
        var (dappId, apiKey) = await client.RegisterDappAsync(directCalls: [(31338, "0x2222222222222222222222222222222222222222")]);
        await client.DepositAsync(dappId, "USDT", "1000000000");
        // Blocks stop being mined: the relayed transaction is still pending when the pool is paused.
        await rpc.RequestAsync("evm_setAutomine", [false]);
        try
        {
            using var quote = await QuoteAsync(client, apiKey);
            var quoteId = (await PaymasterClient.ExpectAsync(quote, HttpStatusCode.Created)).GetProperty("quoteId").GetString()!;
            using var execute = await client.ExecuteAsync(apiKey, quoteId, "k-" + quoteId);
            var txHash = (await PaymasterClient.ExpectAsync(execute, HttpStatusCode.Accepted)).GetProperty("txHash").GetString()!;
            Assert.Null(await rpc.GetTransactionReceiptAsync(txHash));

            await BreakerAsync(client, "pause", "incident drill: freeze new work");
            using (var refused = await QuoteAsync(client, apiKey))
                Assert.Equal("pool_paused", (await PaymasterClient.ExpectAsync(refused, HttpStatusCode.ServiceUnavailable)).GetProperty("code").GetString());
            Assert.Equal(1, (await PoolAsync(client)).GetProperty("transactions").GetProperty("inFlight").GetInt32());

            await rpc.RequestAsync("evm_mine", []);
            var settled = await client.WaitForStatusAsync(apiKey, quoteId, "settled", TimeSpan.FromSeconds(30));

            Assert.Equal(txHash, settled.GetProperty("txHash").GetString());
            Assert.Equal(("paused", "manual"), ((await PoolAsync(client)).GetProperty("mode").GetString(), (await PoolAsync(client)).GetProperty("cause").GetString()));
            Assert.Equal(1, fixture.Node.Journal.RowsMentioning("pool.evt.tx-confirmed", quoteId));
            Assert.Equal(1, fixture.Node.Journal.RowsMentioning("dapp.evt.fee-settled", quoteId));
        }
        finally
        {
            await rpc.RequestAsync("evm_setAutomine", [true]);
            await BreakerAsync(client, "resume", "incident drill over");
        }
    }

    [Fact]
    public async Task A_pause_or_resume_without_a_reason_a_known_chain_or_a_token_changes_nothing_and_the_mode_route_is_gone()
    {
        var client = fixture.Client;
        var rows = fixture.Node.Journal.Rows();

        using var noReason = await client.SendAsync(HttpMethod.Post, "/admin/v1/pools/31338/pause", new { }, bearer: client.OperatorToken);
        using var extraField = await client.SendAsync(HttpMethod.Post, "/admin/v1/pools/31338/pause", new { mode = "paused", reason = "x" }, bearer: client.OperatorToken);
        using var unknownChain = await client.SendAsync(HttpMethod.Post, "/admin/v1/pools/1/pause", new { reason = "x" }, bearer: client.OperatorToken);
        using var notAChain = await client.SendAsync(HttpMethod.Post, "/admin/v1/pools/abc/resume", new { reason = "x" }, bearer: client.OperatorToken);
        using var noToken = await client.SendAsync(HttpMethod.Post, "/admin/v1/pools/31338/pause", new { reason = "x" });
        using var forgedLine = await client.SendAsync(HttpMethod.Post, "/admin/v1/pools/31338/pause", new { reason = "ok\n[INFO] resumed by admin" }, bearer: client.OperatorToken);
        using var oldRoute = await client.SendAsync(HttpMethod.Post, "/admin/v1/pools/31338/mode", new { mode = "paused", reason = "x" }, bearer: client.OperatorToken);
        using var unknownPool = await client.SendAsync(HttpMethod.Get, "/admin/v1/pools/1", null, bearer: client.OperatorToken);

        Assert.Equal("invalid_request", (await PaymasterClient.ExpectAsync(noReason, HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        Assert.Equal("invalid_request", (await PaymasterClient.ExpectAsync(extraField, HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        Assert.Equal("unknown_chain", (await PaymasterClient.ExpectAsync(unknownChain, HttpStatusCode.NotFound)).GetProperty("code").GetString());
        Assert.Equal("unknown_chain", (await PaymasterClient.ExpectAsync(notAChain, HttpStatusCode.NotFound)).GetProperty("code").GetString());
        Assert.Equal("unauthorized", (await PaymasterClient.ExpectAsync(noToken, HttpStatusCode.Unauthorized)).GetProperty("code").GetString());
        Assert.Equal("invalid_request", (await PaymasterClient.ExpectAsync(forgedLine, HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        Assert.Equal("not_found", (await PaymasterClient.ExpectAsync(oldRoute, HttpStatusCode.NotFound)).GetProperty("code").GetString());
        Assert.Equal("unknown_chain", (await PaymasterClient.ExpectAsync(unknownPool, HttpStatusCode.NotFound)).GetProperty("code").GetString());
        Assert.Equal(rows, fixture.Node.Journal.Rows());
    }

    [Fact]
    public async Task The_pools_view_reports_each_pools_transactions_workers_and_receipt_scan_and_needs_a_token()
    {
        var client = fixture.Client;
        var (dappId, apiKey) = await client.RegisterDappAsync(directCalls: [(31338, "0x2222222222222222222222222222222222222222")]);
        await client.DepositAsync(dappId, "USDT", "1000000000");
        using var quote = await QuoteAsync(client, apiKey);
        var quoteId = (await PaymasterClient.ExpectAsync(quote, HttpStatusCode.Created)).GetProperty("quoteId").GetString()!;
        using var execute = await client.ExecuteAsync(apiKey, quoteId, "k-" + quoteId);
        await PaymasterClient.ExpectAsync(execute, HttpStatusCode.Accepted);
        await client.WaitForStatusAsync(apiKey, quoteId, "settled", TimeSpan.FromSeconds(30));

        using var anonymous = await client.SendAsync(HttpMethod.Get, "/admin/v1/pools", null);
        Assert.Equal("unauthorized", (await PaymasterClient.ExpectAsync(anonymous, HttpStatusCode.Unauthorized)).GetProperty("code").GetString());

        // The settlement's acknowledgement reaches the pool on its next tick: then nothing is open on this chain.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        System.Text.Json.JsonElement transactions;
        do
        {
            using var view = await client.SendAsync(HttpMethod.Get, "/admin/v1/pools", null, bearer: client.OperatorToken);
            var pools = await PaymasterClient.ExpectAsync(view, HttpStatusCode.OK);
            transactions = pools.EnumerateArray().Single(p => p.GetProperty("chainId").GetInt64() == 31338).GetProperty("transactions");
            if (transactions.GetProperty("undeliveredSettlements").GetInt32() == 0) break;
            await Task.Delay(100);
        } while (DateTime.UtcNow < deadline);

        Assert.Equal(0, transactions.GetProperty("inFlight").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, transactions.GetProperty("oldestInFlightSince").ValueKind);
        Assert.Equal(0, transactions.GetProperty("undeliveredSettlements").GetInt32());
        Assert.True(transactions.GetProperty("workers").GetInt32() > 0);
        Assert.Equal(transactions.GetProperty("workers").GetInt32(), transactions.GetProperty("syncedWorkers").GetInt32());
        Assert.Equal(0, transactions.GetProperty("blocksBehind").GetInt64());
        var one = await PoolAsync(client);
        Assert.Equal(("devnet-b", "normal"), (one.GetProperty("name").GetString(), one.GetProperty("mode").GetString()));
        Assert.Equal(transactions.GetProperty("workers").GetInt32(), one.GetProperty("transactions").GetProperty("workers").GetInt32());
    }

    private static async Task<System.Text.Json.JsonElement> BreakerAsync(PaymasterClient client, string action, string reason)
    {
        using var response = await client.SendAsync(HttpMethod.Post, $"/admin/v1/pools/31338/{action}", new { reason }, bearer: client.OperatorToken);
        return await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK);
    }

    /// <summary><c>GET /admin/v1/pools/31338</c>: the pool as one item of the list.</summary>
    private static async Task<System.Text.Json.JsonElement> PoolAsync(PaymasterClient client)
    {
        using var response = await client.SendAsync(HttpMethod.Get, "/admin/v1/pools/31338", null, bearer: client.OperatorToken);
        return await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK);
    }

    private static Task<HttpResponseMessage> QuoteAsync(PaymasterClient client, string apiKey) =>
        client.QuoteAsync(apiKey, new { chainId = 31338, sender = "0x1111111111111111111111111111111111111111",
            to = "0x2222222222222222222222222222222222222222", gasLimit = "21000", feeToken = "USDT", callType = "direct" });
}
