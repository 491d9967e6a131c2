using System.Globalization;
using System.Net;
using System.Numerics;
using System.Text.Json;
using GrandPaymaster.Chain.Wallets;

namespace GrandPaymaster.Node.Tests;

[Collection(NodeCollection.Name)]
public sealed class SponsoredFlowTests(NodeFixture fixture)
{
    private static readonly BigInteger WeiPerCoin = BigInteger.Pow(10, 18);

    [Theory]
    [InlineData(31337, "USDT", "100000000", "3000000000")]
    [InlineData(31337, "VCN", "1000000000000000000000", "300000000000000000000000")]
    [InlineData(31338, "USDT", "100000000", "3000000000")]
    [InlineData(31338, "VCN", "1000000000000000000000", "300000000000000000000000")]
    public async Task A_sponsored_call_is_mined_and_settles_with_an_exact_refund(long chainId, string token, string deposit, string unitsPerCoin)
    {
        var client = fixture.Client;
        var (dappId, apiKey) = await client.RegisterDappAsync(surchargeBps: 2_500);
        await client.DepositAsync(dappId, token, deposit);
        var target = await fixture.DeployStoreOneAsync(chainId);
        await client.AllowDirectCallAsync(dappId, chainId, target);

        using var quoteResponse = await client.QuoteAsync(apiKey, new { chainId, sender = "0x1111111111111111111111111111111111111111", to = target, data = "0x", gasLimit = "120000", feeToken = token, callType = "direct" });
        var quote = await PaymasterClient.ExpectAsync(quoteResponse, HttpStatusCode.Created);
        var quoteId = quote.GetProperty("quoteId").GetString()!;
        var hold = BigInteger.Parse(quote.GetProperty("maxFee").GetString()!, CultureInfo.InvariantCulture);
        using var executeResponse = await client.ExecuteAsync(apiKey, quoteId, "key-" + Guid.NewGuid());
        var executed = await PaymasterClient.ExpectAsync(executeResponse, HttpStatusCode.Accepted);
        var txHash = executed.GetProperty("txHash").GetString()!;
        var settled = await client.WaitForStatusAsync(apiKey, quoteId, "settled", TimeSpan.FromSeconds(30));

        // Read the receipt independently of the node.
        var receipt = await fixture.Rpc(chainId).GetTransactionReceiptAsync(txHash);
        Assert.NotNull(receipt);
        Assert.True(receipt.Succeeded);
        var workers = new DevWallets("grand-paymaster-devnet");
        Assert.Contains(receipt.From.ToLowerInvariant(), new[] { 0, 1 }.Select(i => workers.PoolWorker(chainId, i).Address.ToChecksumString().ToLowerInvariant()));
        var expectedFee = CeilDiv(receipt.GasUsed * receipt.EffectiveGasPrice * 12_500 * BigInteger.Parse(unitsPerCoin, CultureInfo.InvariantCulture), 10_000 * WeiPerCoin);
        var expectedRefund = hold - expectedFee;

        var settledStage = Stage(settled, "settled");
        Assert.Equal(expectedFee.ToString(CultureInfo.InvariantCulture), settledStage.GetProperty("fee").GetString());
        Assert.Equal(expectedRefund.ToString(CultureInfo.InvariantCulture), settledStage.GetProperty("refund").GetString());
        Assert.Equal("0", settledStage.GetProperty("shortfall").GetString());
        Assert.Equal(txHash, settled.GetProperty("txHash").GetString());
        Assert.Equal(["quoted", "deducted", "submitted", "confirmed", "settled"],
            settled.GetProperty("timeline").EnumerateArray().Select(s => s.GetProperty("stage").GetString()));
        Assert.Equal(receipt.GasUsed.ToString(CultureInfo.InvariantCulture), Stage(settled, "confirmed").GetProperty("gasUsed").GetString());

        var balances = await client.BalancesAsync(apiKey);
        var ledger = balances.GetProperty("balances").GetProperty(token);
        Assert.Equal(deposit, ledger.GetProperty("deposited").GetString());
        Assert.Equal((BigInteger.Parse(deposit, CultureInfo.InvariantCulture) - expectedFee).ToString(CultureInfo.InvariantCulture), ledger.GetProperty("available").GetString());
        Assert.Equal("0", ledger.GetProperty("held").GetString());
        LedgerLaw.AssertHolds(balances);
        Assert.Equal(1, fixture.Node.Journal.RowsMentioning("dapp.evt.fee-settled", quoteId));
    }

    [Fact]
    public async Task Fifty_concurrent_executes_with_one_key_deduct_once_and_send_one_transaction()
    {
        var client = fixture.Client;
        var (dappId, apiKey) = await client.RegisterDappAsync();
        await client.DepositAsync(dappId, "USDT", "100000000");
        var target = await fixture.DeployStoreOneAsync(31337);
        await client.AllowDirectCallAsync(dappId, 31337, target);
        using var quoteResponse = await client.QuoteAsync(apiKey, new { chainId = 31337, sender = "0x1111111111111111111111111111111111111111", to = target, feeToken = "USDT", callType = "direct" });
        var quoteId = (await PaymasterClient.ExpectAsync(quoteResponse, HttpStatusCode.Created)).GetProperty("quoteId").GetString()!;

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            using var response = await client.ExecuteAsync(apiKey, quoteId, "one-key", new { clientReference = "order-42" });
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));
        using var otherBody = await client.ExecuteAsync(apiKey, quoteId, "one-key", new { clientReference = "order-43" });

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Single(responses.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("txHash").GetString()).Distinct());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherBody.StatusCode);
        Assert.Equal("idempotency_conflict", JsonDocument.Parse(await otherBody.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString());
        Assert.Equal(1, fixture.Node.Journal.Rows($"dapp-{dappId}", "dapp.evt.fee-deducted"));
        Assert.Equal(1, fixture.Node.Journal.RowsMentioning("pool.evt.tx-submitted", quoteId));

        await client.WaitForStatusAsync(apiKey, quoteId, "settled", TimeSpan.FromSeconds(30));
        LedgerLaw.AssertHolds(await client.BalancesAsync(apiKey));
    }

    [Fact]
    public async Task Without_a_gas_limit_the_call_is_simulated_and_a_reverting_call_is_refused()
    {
        var client = fixture.Client;
        var storeOne = await fixture.DeployStoreOneAsync(31337);
        var reverts = await fixture.DeployAsync(31337, "0x60006000fd"); // PUSH1 0 PUSH1 0 REVERT
        var (_, apiKey) = await client.RegisterDappAsync(directCalls: [(31337, storeOne), (31337, reverts)]);
        var expected = await fixture.Rpc(31337).EstimateGasAsync(new Chain.Rpc.CallRequest(storeOne));

        using var simulated = await client.QuoteAsync(apiKey, new { chainId = 31337, sender = "0x1111111111111111111111111111111111111111", to = storeOne, feeToken = "VCN", callType = "direct" });
        using var reverted = await client.QuoteAsync(apiKey, new { chainId = 31337, sender = "0x1111111111111111111111111111111111111111", to = reverts, feeToken = "VCN", callType = "direct" });

        var quote = await PaymasterClient.ExpectAsync(simulated, HttpStatusCode.Created);
        Assert.Equal(expected.ToString(CultureInfo.InvariantCulture), quote.GetProperty("breakdown").GetProperty("gasLimit").GetString());
        var problem = await PaymasterClient.ExpectAsync(reverted, HttpStatusCode.UnprocessableEntity);
        Assert.Equal("simulation_reverted", problem.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_broadcast_the_chain_refuses_releases_the_hold_and_answers_relay_failed()
    {
        var client = fixture.Client;
        var (dappId, apiKey) = await client.RegisterDappAsync(directCalls: [(31338, "0x2222222222222222222222222222222222222222")]);
        await client.DepositAsync(dappId, "USDT", "100000000");
        var rpc = fixture.Rpc(31338);
        var workers = new DevWallets("grand-paymaster-devnet");
        var addresses = new[] { 0, 1 }.Select(i => workers.PoolWorker(31338, i).Address.ToChecksumString()).ToArray();
        var balances = new List<BigInteger>();
        foreach (var address in addresses) balances.Add(await rpc.GetBalanceAsync(address));
        try
        {
            // Empty pool wallets: the node refuses the transaction for insufficient funds.
            foreach (var address in addresses) await rpc.RequestAsync("anvil_setBalance", [address, "0x0"]);
            using var quoteResponse = await client.QuoteAsync(apiKey, new { chainId = 31338, sender = "0x1111111111111111111111111111111111111111",
                to = "0x2222222222222222222222222222222222222222", gasLimit = "21000", feeToken = "USDT", callType = "direct" });
            var quoteId = (await PaymasterClient.ExpectAsync(quoteResponse, HttpStatusCode.Created)).GetProperty("quoteId").GetString()!;

            using var execute = await client.ExecuteAsync(apiKey, quoteId, "refused-key");

            var problem = await PaymasterClient.ExpectAsync(execute, HttpStatusCode.BadGateway);
            Assert.Equal("relay_failed", problem.GetProperty("code").GetString());
            var status = await client.QuoteStatusAsync(apiKey, quoteId);
            Assert.Equal("released", status.GetProperty("status").GetString());
            var ledger = await client.BalancesAsync(apiKey);
            Assert.Equal("100000000", ledger.GetProperty("balances").GetProperty("USDT").GetProperty("available").GetString());
            Assert.Equal("0", ledger.GetProperty("balances").GetProperty("USDT").GetProperty("held").GetString());
            LedgerLaw.AssertHolds(ledger);
            Assert.Equal(1, fixture.Node.Journal.RowsMentioning("dapp.evt.fee-released", quoteId));
            Assert.Equal(1, fixture.Node.Journal.RowsMentioning("pool.evt.tx-broadcast-failed", quoteId));
        }
        finally
        {
            for (var i = 0; i < addresses.Length; i++)
                await rpc.RequestAsync("anvil_setBalance", [addresses[i], Chain.Encoding.Hex.FormatQuantity(balances[i])]);
        }
    }

    private static JsonElement Stage(JsonElement quote, string stage) =>
        quote.GetProperty("timeline").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == stage);

    private static BigInteger CeilDiv(BigInteger a, BigInteger b) => (a + b - 1) / b;
}

/// <summary>DESIGN.md §3, checked from the outside: Σ deposits = balance + open holds + settled fees, per token.</summary>
public static class LedgerLaw
{
    public static void AssertHolds(JsonElement balances)
    {
        foreach (var token in balances.GetProperty("balances").EnumerateObject())
        {
            BigInteger Get(string name) => BigInteger.Parse(token.Value.GetProperty(name).GetString()!, CultureInfo.InvariantCulture);
            Assert.True(Get("deposited") == Get("available") + Get("held") + Get("settled"), $"ledger law broken for {token.Name}: {token.Value}");
        }
    }
}
