using System.Globalization;
using System.Net;
using System.Numerics;
using GrandPaymaster.Chain.Encoding;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// Automine off, the base fee pushed above a relayed transaction's price: the pool speeds it up within what the hold
/// covers and settles against the replacement's receipt; when no speed-up fits the hold it cancels the nonce with a
/// self-send and releases the hold only once the cancel is mined.
/// </summary>
public sealed class StuckTransactionTests : SingleChain
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_transaction_priced_below_the_base_fee_is_sped_up_and_settles_with_the_replacement_receipt()
    {
        await using var node = await StartAsync("--Gpm:Pools:StuckAfter=00:00:02");
        var (client, apiKey, quoteId, price, original) = await StuckRelayAsync(node, baseFeeAbove: p => p + p / 20);

        var hashes = await WaitForHashesAsync(client, apiKey, quoteId, 2);
        await SetNextBaseFeeAndMineAsync(price + price / 10); // above the original's max fee, below the speed-up's

        var settled = await client.WaitForStatusAsync(apiKey, quoteId, "settled", Within);
        var confirmed = settled.GetProperty("timeline").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == "confirmed");
        Assert.Equal(hashes[1], confirmed.GetProperty("txHash").GetString());
        Assert.NotEqual(original, hashes[1]);
        Assert.Equal(original, hashes[0]);
        var speedUp = await Rpc.RequestAsync("eth_getTransactionByHash", [hashes[1]]);
        Assert.True(Hex.ParseQuantity(speedUp.GetProperty("maxFeePerGas").GetString()!) * 1_000 >= price * 1_125);
        Assert.Null(await Rpc.GetTransactionReceiptAsync(original));
        await ChainAudit.AssertEveryPoolTransactionSettledOnceAsync(Rpc, client, apiKey, [quoteId]);
    }

    [Fact]
    public async Task At_the_cap_the_nonce_is_cancelled_and_the_hold_released_only_after_the_cancel_is_mined()
    {
        await using var node = await StartAsync("--Gpm:Pools:StuckAfter=00:00:01");
        var (client, apiKey, quoteId, price, original) = await StuckRelayAsync(node, baseFeeAbove: p => p * 3);

        var hashes = await WaitForHashesAsync(client, apiKey, quoteId, 3);
        Assert.Equal("submitted", (await client.QuoteStatusAsync(apiKey, quoteId)).GetProperty("status").GetString());
        await SetNextBaseFeeAndMineAsync(price * 3);

        var released = await client.WaitForStatusAsync(apiKey, quoteId, "released", Within);
        Assert.Contains("cancel", released.GetProperty("timeline").EnumerateArray().Last().GetProperty("reason").GetString());
        var cancel = await Rpc.GetTransactionReceiptAsync(hashes[^1]);
        Assert.NotNull(cancel);
        Assert.Equal(cancel.From, cancel.To); // a 0-value self-send at the relay's nonce, paid by the pool
        Assert.Null(await Rpc.GetTransactionReceiptAsync(original));
        var balances = await client.BalancesAsync(apiKey);
        Assert.Equal("100000000", balances.GetProperty("balances").GetProperty("USDT").GetProperty("available").GetString());
        Assert.Equal(1, node.Journal.RowsMentioning("pool.evt.tx-dropped", quoteId));
        await ChainAudit.AssertEveryPoolTransactionSettledOnceAsync(Rpc, client, apiKey, [quoteId]);
    }

    private async Task<TestNode> StartAsync(string stuckAfter)
    {
        var node = await TestNode.StartAsync(DataDirectory, TestNode.ChainsOf(Chains), stuckAfter);
        await node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, Within);
        return node;
    }

    /// <summary>Relays one call with automine off, then mines a block whose base fee is above its price: it is stuck.</summary>
    private async Task<(PaymasterClient Client, string ApiKey, string QuoteId, BigInteger Price, string TxHash)> StuckRelayAsync(TestNode node,
        Func<BigInteger, BigInteger> baseFeeAbove)
    {
        var client = node.Client;
        var (dappId, apiKey) = await client.RegisterDappAsync(directCalls: [(31337, "0x2222222222222222222222222222222222222222")]);
        await client.DepositAsync(dappId, "USDT", "100000000");
        await Rpc.RequestAsync("evm_setAutomine", [false]);
        using var quoteResponse = await client.QuoteAsync(apiKey, new { chainId = 31337, sender = "0x1111111111111111111111111111111111111111",
            to = "0x2222222222222222222222222222222222222222", gasLimit = "21000", feeToken = "USDT", callType = "direct" });
        var quote = await PaymasterClient.ExpectAsync(quoteResponse, HttpStatusCode.Created);
        var quoteId = quote.GetProperty("quoteId").GetString()!;
        var price = BigInteger.Parse(quote.GetProperty("breakdown").GetProperty("gasPrice").GetString()!, CultureInfo.InvariantCulture);
        using var execute = await client.ExecuteAsync(apiKey, quoteId, "k-" + quoteId);
        var txHash = (await PaymasterClient.ExpectAsync(execute, HttpStatusCode.Accepted)).GetProperty("txHash").GetString()!;

        await SetNextBaseFeeAndMineAsync(baseFeeAbove(price));
        Assert.Null(await Rpc.GetTransactionReceiptAsync(txHash));
        return (client, apiKey, quoteId, price, txHash);
    }

    private async Task SetNextBaseFeeAndMineAsync(BigInteger baseFee)
    {
        await Rpc.RequestAsync("anvil_setNextBlockBaseFeePerGas", [Hex.FormatQuantity(baseFee)]);
        await Rpc.RequestAsync("evm_mine", []);
    }

    private static async Task<IReadOnlyList<string>> WaitForHashesAsync(PaymasterClient client, string apiKey, string quoteId, int count)
    {
        var deadline = DateTime.UtcNow + Within;
        while (true)
        {
            var status = await client.QuoteStatusAsync(apiKey, quoteId);
            var hashes = status.GetProperty("txHashes").EnumerateArray().Select(h => h.GetString()!).ToArray();
            if (hashes.Length >= count) return hashes;
            Assert.True(DateTime.UtcNow < deadline, $"quote {quoteId} has {hashes.Length} hash(es), not {count}: {status}");
            await Task.Delay(100);
        }
    }
}
