using System.Net;

namespace GrandPaymaster.Node.Tests.Faults;

/// <summary>
/// Nonce N refused while N+1 was accepted (N+1 then waits behind a gap on the chain). The refusal is in the journal, so
/// after a restart the pool fills N with a self-send and N+1 is mined and settled.
/// </summary>
public sealed class NonceGapTests : SingleChain
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_refused_nonce_below_an_accepted_one_is_filled_after_a_restart_and_the_later_transaction_is_mined()
    {
        await using var proxy = await RpcFaultProxy.StartAsync(Chains.Chains[0].RpcUrl);
        // Broadcasts answer slowly, so both relays are signed (nonces N and N+1) before N's verdict is back; well within
        // the 750 ms endpoint attempt timeout, as a timed-out broadcast is an unknown verdict, not a refusal (600 ms
        // timed out once in a loaded CI run).
        proxy.Set("eth_sendRawTransaction", new RpcFault.Latency(TimeSpan.FromMilliseconds(400)));
        string apiKey, refusedQuote, laterQuote, laterHash;
        PaymasterClient client;
        await using (var first = await StartAsync(proxy.Url, "--Gpm:Pools:GapFillAfter=01:00:00"))
        {
            client = first.Client;
            (var dappId, apiKey) = await client.RegisterDappAsync(directCalls: [(31337, "0x2222222222222222222222222222222222222222")]);
            await client.DepositAsync(dappId, "USDT", "100000000");
            // The worker can pay for a small call but not for 5,000,000 gas: the node refuses the big one for
            // insufficient funds (a proven refusal) and accepts the small one behind it.
            var (bigQuote, price) = await QuoteAsync(client, apiKey, "5000000");
            refusedQuote = bigQuote;
            laterQuote = (await QuoteAsync(client, apiKey, "21000")).QuoteId;
            var worker = new Chain.Wallets.DevWallets("grand-paymaster-devnet").PoolWorker(31337, 0).Address.ToChecksumString();
            await Rpc.RequestAsync("anvil_setBalance", [worker, Chain.Encoding.Hex.FormatQuantity(price * 1_000_000)]);

            var refusing = client.ExecuteAsync(apiKey, refusedQuote, "k-1");
            await WaitForRowAsync(first, "pool.evt.tx-submitted", refusedQuote);
            var accepting = client.ExecuteAsync(apiKey, laterQuote, "k-2");

            using var refused = await refusing;
            using var accepted = await accepting;
            Assert.Equal("relay_failed", (await PaymasterClient.ExpectAsync(refused, HttpStatusCode.BadGateway)).GetProperty("code").GetString());
            laterHash = (await PaymasterClient.ExpectAsync(accepted, HttpStatusCode.Accepted)).GetProperty("txHash").GetString()!;
            Assert.Null(await Rpc.GetTransactionReceiptAsync(laterHash)); // waiting behind the gap
            Assert.Equal(0, first.Journal.Rows("pool-31337", "pool.evt.gap-fill-submitted"));
        }

        proxy.ClearAll();
        await using var second = await StartAsync(proxy.Url);
        client = second.Client;

        await client.WaitForStatusAsync(apiKey, laterQuote, "settled", Within);
        var mined = await ChainAudit.PoolTransactionsAsync(Rpc, 31337, workers: 1);
        Assert.Equal(2, mined.Count);
        Assert.True(mined[0].IsSelfSend, "nonce N is the pool's gap fill");
        Assert.Equal(mined[0].Nonce + 1, mined[1].Nonce);
        Assert.Equal(laterHash, mined[1].Hash);
        await AwaitRowAsync(second, "pool.evt.gap-filled");
        Assert.Equal("released", (await client.QuoteStatusAsync(apiKey, refusedQuote)).GetProperty("status").GetString());
        await ChainAudit.AssertEveryPoolTransactionSettledOnceAsync(Rpc, client, apiKey, [refusedQuote, laterQuote], workers: 1);
    }

    private async Task<TestNode> StartAsync(Uri rpc, params string[] extra)
    {
        var node = await TestNode.StartAsync(DataDirectory, [("devnet-a", 31337, rpc)], ["--Gpm:Wallets:WorkersPerChain=1", .. extra]);
        await node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, Within);
        return node;
    }

    private static async Task<(string QuoteId, System.Numerics.BigInteger GasPrice)> QuoteAsync(PaymasterClient client, string apiKey, string gasLimit)
    {
        using var response = await client.QuoteAsync(apiKey, new { chainId = 31337, sender = "0x1111111111111111111111111111111111111111",
            to = "0x2222222222222222222222222222222222222222", gasLimit, feeToken = "USDT", callType = "direct" });
        var quote = await PaymasterClient.ExpectAsync(response, HttpStatusCode.Created);
        return (quote.GetProperty("quoteId").GetString()!,
            System.Numerics.BigInteger.Parse(quote.GetProperty("breakdown").GetProperty("gasPrice").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task WaitForRowAsync(TestNode node, string manifest, string text)
    {
        var deadline = DateTime.UtcNow + Within;
        while (node.Journal.RowsMentioning(manifest, text) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no {manifest} row for {text}");
            await Task.Delay(20);
        }
    }

    private static async Task AwaitRowAsync(TestNode node, string manifest)
    {
        var deadline = DateTime.UtcNow + Within;
        while (node.Journal.Rows("pool-31337", manifest) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no {manifest} row");
            await Task.Delay(50);
        }
    }
}
