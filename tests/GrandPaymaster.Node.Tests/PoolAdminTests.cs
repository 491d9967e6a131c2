using System.Net;

namespace GrandPaymaster.Node.Tests;

/// <summary>An operator pauses and resumes a chain's pool through the admin API; the change is journaled with who and why.</summary>
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
            var paused = await SetModeAsync(client, new { mode = "paused", reason = "planned node upgrade" });
            Assert.Equal(("paused", "manual"), (paused.GetProperty("mode").GetString(), paused.GetProperty("cause").GetString()));

            using var refused = await QuoteAsync(client, apiKey);
            var problem = await PaymasterClient.ExpectAsync(refused, HttpStatusCode.ServiceUnavailable);
            Assert.Equal("pool_paused", problem.GetProperty("code").GetString());
            Assert.Contains("planned node upgrade", problem.GetProperty("detail").GetString());
        }
        finally
        {
            await SetModeAsync(client, new { mode = "normal", reason = "upgrade done" });
        }

        using var served = await QuoteAsync(client, apiKey);
        await PaymasterClient.ExpectAsync(served, HttpStatusCode.Created);
        Assert.Equal(1, fixture.Node.Journal.RowsMentioning("pool.evt.mode-changed", "operator:tester\",\"Reason\":\"planned node upgrade"));
        Assert.Equal(1, fixture.Node.Journal.RowsMentioning("pool.evt.mode-changed", "operator:tester\",\"Reason\":\"upgrade done"));
    }

    [Fact]
    public async Task A_mode_change_without_a_valid_mode_and_reason_or_token_changes_nothing()
    {
        var client = fixture.Client;
        var rows = fixture.Node.Journal.Rows();

        using var noReason = await client.SendAsync(HttpMethod.Post, "/admin/v1/pools/31338/mode", new { mode = "paused" }, bearer: client.OperatorToken);
        using var badMode = await client.SendAsync(HttpMethod.Post, "/admin/v1/pools/31338/mode", new { mode = "off", reason = "x" }, bearer: client.OperatorToken);
        using var unknownChain = await client.SendAsync(HttpMethod.Post, "/admin/v1/pools/1/mode", new { mode = "paused", reason = "x" }, bearer: client.OperatorToken);
        using var noToken = await client.SendAsync(HttpMethod.Post, "/admin/v1/pools/31338/mode", new { mode = "paused", reason = "x" });
        using var forgedLine = await client.SendAsync(HttpMethod.Post, "/admin/v1/pools/31338/mode", new { mode = "paused", reason = "ok\n[INFO] resumed by admin" },
            bearer: client.OperatorToken);

        Assert.Equal("invalid_request", (await PaymasterClient.ExpectAsync(noReason, HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        Assert.Equal("invalid_request", (await PaymasterClient.ExpectAsync(badMode, HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        Assert.Equal("unknown_chain", (await PaymasterClient.ExpectAsync(unknownChain, HttpStatusCode.NotFound)).GetProperty("code").GetString());
        Assert.Equal("unauthorized", (await PaymasterClient.ExpectAsync(noToken, HttpStatusCode.Unauthorized)).GetProperty("code").GetString());
        Assert.Equal("invalid_request", (await PaymasterClient.ExpectAsync(forgedLine, HttpStatusCode.BadRequest)).GetProperty("code").GetString());
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
    }

    private static async Task<System.Text.Json.JsonElement> SetModeAsync(PaymasterClient client, object body)
    {
        using var response = await client.SendAsync(HttpMethod.Post, "/admin/v1/pools/31338/mode", body, bearer: client.OperatorToken);
        return await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK);
    }

    private static Task<HttpResponseMessage> QuoteAsync(PaymasterClient client, string apiKey) =>
        client.QuoteAsync(apiKey, new { chainId = 31338, sender = "0x1111111111111111111111111111111111111111",
            to = "0x2222222222222222222222222222222222222222", gasLimit = "21000", feeToken = "USDT", callType = "direct" });
}
