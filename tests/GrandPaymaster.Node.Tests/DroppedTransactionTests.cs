using System.Net;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Transactions;
using GrandPaymaster.Chain.Wallets;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// A relayed transaction that is replaced in the mempool (its nonce mined by another transaction) can never
/// be mined: the pool notices on its next rebroadcast and the dApp's hold goes back to its balance.
/// </summary>
public sealed class DroppedTransactionTests : SingleChain
{
    [Fact]
    public async Task A_transaction_whose_nonce_was_mined_by_another_is_released_after_the_next_rebroadcast()
    {
        await using var node = await TestNode.StartAsync(DataDirectory, TestNode.ChainsOf(Chains), "--Gpm:Pools:RebroadcastAfter=00:00:01");
        await node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60));
        var client = node.Client;
        var (dappId, apiKey) = await client.RegisterDappAsync(directCalls: [(31337, "0x2222222222222222222222222222222222222222")]);
        await client.DepositAsync(dappId, "USDT", "10000000");
        await Rpc.RequestAsync("evm_setAutomine", [false]);

        using var quoteResponse = await client.QuoteAsync(apiKey, new { chainId = 31337, sender = "0x1111111111111111111111111111111111111111",
            to = "0x2222222222222222222222222222222222222222", gasLimit = "21000", feeToken = "USDT", callType = "direct" });
        var quoteId = (await PaymasterClient.ExpectAsync(quoteResponse, HttpStatusCode.Created)).GetProperty("quoteId").GetString()!;
        using var execute = await client.ExecuteAsync(apiKey, quoteId, "dropped-key");
        var txHash = (await PaymasterClient.ExpectAsync(execute, HttpStatusCode.Accepted)).GetProperty("txHash").GetString()!;

        // Someone with the pool wallet's key (an operator, another process) spends the same nonce at a higher price.
        var pending = await Rpc.RequestAsync("eth_getTransactionByHash", [txHash]);
        var from = EthAddress.Parse(pending.GetProperty("from").GetString()!);
        var nonce = Hex.ParseQuantity(pending.GetProperty("nonce").GetString()!);
        var maxFee = Hex.ParseQuantity(pending.GetProperty("maxFeePerGas").GetString()!);
        var key = new[] { 0, 1 }.Select(i => new DevWallets("grand-paymaster-devnet").PoolWorker(31337, i)).Single(k => k.Address == from);
        var replacement = new Eip1559Transaction(31337, nonce, maxFee * 2, maxFee * 3, 21_000, from, 0, []).Sign(key);
        await Rpc.SendRawTransactionAsync(replacement.Raw);
        await Rpc.RequestAsync("evm_mine", []);
        await Rpc.RequestAsync("evm_setAutomine", [true]);
        Assert.NotNull(await Rpc.GetTransactionReceiptAsync(replacement.TxHashHex));

        var released = await client.WaitForStatusAsync(apiKey, quoteId, "released", TimeSpan.FromSeconds(30));

        Assert.Contains("dropped", released.GetProperty("timeline").EnumerateArray().Last().GetProperty("reason").GetString());
        var balances = await client.BalancesAsync(apiKey);
        Assert.Equal("10000000", balances.GetProperty("balances").GetProperty("USDT").GetProperty("available").GetString());
        LedgerLaw.AssertHolds(balances);
        Assert.Equal(1, node.Journal.RowsMentioning("pool.evt.tx-dropped", quoteId));
        Assert.Equal(0, node.Journal.RowsMentioning("pool.evt.tx-broadcast-failed", quoteId));
        Assert.Equal(1, node.Journal.RowsMentioning("dapp.evt.fee-released", quoteId));
    }
}
