using System.Globalization;
using System.Net;
using System.Numerics;
using System.Text.Json;
using GrandPaymaster.Chain.Wallets;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// Sponsored calls through the ERC-2771 forwarder on anvil: a user holding no ETH signs, a pool wallet pays, the
/// recipient counts the user, and one user's requests are mined one after the other in nonce order.
/// </summary>
[Collection(LongQuotesCollection.Name)]
public sealed class ForwardedCallTests(LongQuotesFixture fixture)
{
    private const long ChainId = 31337;
    private static readonly BigInteger WeiPerCoin = BigInteger.Pow(10, 18);
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);

    private string Recorder => TestContracts.For(ChainId).SenderRecorder.ToChecksumString();

    [Fact]
    public async Task A_user_without_ether_signs_the_recipient_counts_the_user_and_the_dapp_is_billed_exactly_from_the_receipt()
    {
        var (client, dappId, apiKey) = await FundedDappAsync();
        var user = ForwardedUser.New();
        var rpc = fixture.Rpc(ChainId);
        Assert.Equal(BigInteger.Zero, await rpc.GetBalanceAsync(user.Address));

        var quote = await user.QuoteAsync(client, apiKey, ChainId, Recorder);
        Assert.Equal("forwarded", quote.GetProperty("callType").GetString());
        var message = quote.GetProperty("forwardRequest").GetProperty("typedData").GetProperty("message");
        Assert.Equal(user.Address, message.GetProperty("from").GetString());
        Assert.Equal(Recorder, message.GetProperty("to").GetString());
        Assert.Equal("0", message.GetProperty("nonce").GetString());
        Assert.True(long.Parse(message.GetProperty("deadline").GetString()!, CultureInfo.InvariantCulture)
                    <= quote.GetProperty("expiresAt").GetDateTimeOffset().ToUnixTimeSeconds());
        var hold = BigInteger.Parse(quote.GetProperty("maxFee").GetString()!, CultureInfo.InvariantCulture);

        using var executed = await user.ExecuteAsync(client, apiKey, quote);
        var txHash = (await PaymasterClient.ExpectAsync(executed, HttpStatusCode.Accepted)).GetProperty("txHash").GetString()!;
        var settled = await client.WaitForStatusAsync(apiKey, quote.GetProperty("quoteId").GetString()!, "settled", Within);

        var receipt = (await rpc.GetTransactionReceiptAsync(txHash))!;
        Assert.True(receipt.Succeeded);
        Assert.Equal(TestContracts.For(ChainId).Forwarder.ToChecksumString().ToLowerInvariant(), receipt.To!.ToLowerInvariant());
        var workers = new DevWallets("grand-paymaster-devnet");
        Assert.Contains(receipt.From.ToLowerInvariant(), new[] { 0, 1 }.Select(i => workers.PoolWorker(ChainId, i).Address.ToChecksumString().ToLowerInvariant()));
        Assert.Equal(BigInteger.One, await ForwardedUser.CallsAsync(rpc, Recorder, user.Address));
        Assert.Equal(BigInteger.Zero, await ForwardedUser.CallsAsync(rpc, Recorder, receipt.From));
        Assert.Equal(BigInteger.Zero, await rpc.GetBalanceAsync(user.Address));

        // fee = ceil(gasUsed × effectiveGasPrice × (1 + 30 % surcharge) × 3,000 USDT per ETH), from the receipt anvil reports.
        var expectedFee = CeilDiv(receipt.GasUsed * receipt.EffectiveGasPrice * 13_000 * 3_000_000_000, 10_000 * WeiPerCoin);
        var stage = settled.GetProperty("timeline").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == "settled");
        Assert.Equal(ForwardedUser.Text(expectedFee), stage.GetProperty("fee").GetString());
        Assert.Equal(ForwardedUser.Text(hold - expectedFee), stage.GetProperty("refund").GetString());
        var balances = await client.BalancesAsync(apiKey);
        Assert.Equal(ForwardedUser.Text(100_000_000 - expectedFee), balances.GetProperty("balances").GetProperty("USDT").GetProperty("available").GetString());
        LedgerLaw.AssertHolds(balances);
        Assert.Equal(1, fixture.Node.Journal.Rows($"dapp-{dappId}", "dapp.evt.fee-settled"));
    }

    [Fact]
    public async Task Ten_concurrent_quotes_of_one_user_get_consecutive_nonces_and_are_all_mined_in_nonce_order()
    {
        var (client, _, apiKey) = await FundedDappAsync();
        var user = ForwardedUser.New();
        var rpc = fixture.Rpc(ChainId);

        var quotes = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => user.QuoteAsync(client, apiKey, ChainId, Recorder)));
        Assert.Equal(Enumerable.Range(0, 10), quotes.Select(q => int.Parse(Nonce(q), CultureInfo.InvariantCulture)).Order());

        var executed = await Task.WhenAll(quotes.Select(async q =>
        {
            using var response = await user.ExecuteAsync(client, apiKey, q);
            return (await PaymasterClient.ExpectAsync(response, HttpStatusCode.Accepted)).GetProperty("txHash").GetString()!;
        }));
        foreach (var quote in quotes) await client.WaitForStatusAsync(apiKey, quote.GetProperty("quoteId").GetString()!, "settled", Within);

        var mined = new List<(int Nonce, BigInteger Block)>();
        for (var i = 0; i < quotes.Length; i++)
        {
            var receipt = (await rpc.GetTransactionReceiptAsync(executed[i]))!;
            Assert.True(receipt.Succeeded);
            mined.Add((int.Parse(Nonce(quotes[i]), CultureInfo.InvariantCulture), receipt.BlockNumber));
        }

        var blocks = mined.OrderBy(m => m.Nonce).Select(m => m.Block).ToArray();
        Assert.True(blocks.Zip(blocks.Skip(1)).All(pair => pair.Item1 < pair.Item2), $"blocks by nonce: {string.Join(", ", blocks)}");
        Assert.Equal(new BigInteger(10), await ForwardedUser.CallsAsync(rpc, Recorder, user.Address));
        LedgerLaw.AssertHolds(await client.BalancesAsync(apiKey));
    }

    [Fact]
    public async Task When_the_fourth_of_ten_requests_fails_it_and_every_later_one_are_released_and_nothing_stays_held()
    {
        var (client, dappId, apiKey) = await FundedDappAsync();
        var user = ForwardedUser.New();
        var rpc = fixture.Rpc(ChainId);
        var quotes = new List<JsonElement>();
        // The fourth calls a function SenderRecorder does not have: its forwarded call reverts.
        for (var i = 0; i < 10; i++)
            quotes.Add(i == 3
                ? await user.QuoteAsync(client, apiKey, ChainId, Recorder, data: "0xdeadbeef", gasLimit: "100000")
                : await user.QuoteAsync(client, apiKey, ChainId, Recorder));
        Assert.Equal(Enumerable.Range(0, 10).Select(n => n.ToString(CultureInfo.InvariantCulture)), quotes.Select(Nonce));

        // The later ones are executed first, so none of them can be simulated at the edge: they wait in the pool.
        var later = quotes.Skip(3).Select(async q =>
        {
            using var response = await user.ExecuteAsync(client, apiKey, q);
            return (response.StatusCode, Code: JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString());
        }).ToArray();
        await WaitUntilAsync(() => fixture.Node.Journal.Rows($"dapp-{dappId}", "dapp.evt.fee-deducted") == 7);
        var earlier = await Task.WhenAll(quotes.Take(3).Select(async q =>
        {
            using var response = await user.ExecuteAsync(client, apiKey, q);
            return response.StatusCode;
        }));
        var answers = await Task.WhenAll(later);

        Assert.All(earlier, status => Assert.Equal(HttpStatusCode.Accepted, status));
        Assert.Equal((HttpStatusCode.UnprocessableEntity, "simulation_reverted"), answers[0]);
        Assert.All(answers.Skip(1), a => Assert.Equal((HttpStatusCode.Conflict, "nonce_stale"), a));
        foreach (var quote in quotes.Take(3)) await client.WaitForStatusAsync(apiKey, quote.GetProperty("quoteId").GetString()!, "settled", Within);
        foreach (var quote in quotes.Skip(3))
        {
            var status = await client.QuoteStatusAsync(apiKey, quote.GetProperty("quoteId").GetString()!);
            Assert.Equal("released", status.GetProperty("status").GetString());
            Assert.Empty(status.GetProperty("txHashes").EnumerateArray());
            Assert.Equal(0, fixture.Node.Journal.RowsMentioning("pool.evt.tx-submitted", quote.GetProperty("quoteId").GetString()!));
        }

        Assert.Equal(new BigInteger(3), await ForwardedUser.CallsAsync(rpc, Recorder, user.Address));
        var balances = await client.BalancesAsync(apiKey);
        Assert.Equal("0", balances.GetProperty("balances").GetProperty("USDT").GetProperty("held").GetString());
        LedgerLaw.AssertHolds(balances);
    }

    private async Task<(PaymasterClient Client, string DappId, string ApiKey)> FundedDappAsync()
    {
        var client = fixture.Client;
        var (dappId, apiKey) = await client.RegisterDappAsync();
        await client.DepositAsync(dappId, "USDT", "100000000");
        return (client, dappId, apiKey);
    }

    private static string Nonce(JsonElement quote) =>
        quote.GetProperty("forwardRequest").GetProperty("typedData").GetProperty("message").GetProperty("nonce").GetString()!;

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Within;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met");
            await Task.Delay(50);
        }
    }

    private static BigInteger CeilDiv(BigInteger a, BigInteger b) => (a + b - 1) / b;
}
