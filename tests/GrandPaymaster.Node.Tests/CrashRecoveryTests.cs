using System.Globalization;
using System.Net;
using System.Numerics;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Wallets;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// A node SIGKILLed between <c>TxSubmitted</c> and settlement: after a restart on the same journal the
/// transaction is settled exactly once and no hold is left open.
/// </summary>
public sealed class CrashRecoveryTests : SingleChain
{
    [Fact]
    public async Task A_node_killed_between_submission_and_settlement_settles_exactly_once_after_restart()
    {
        var chains = TestNode.ChainsOf(Chains).ToArray();
        var port = DevnetChainSpec.FreeLoopbackPort();
        string apiKey, quoteId, txHash;
        BigInteger hold;
        using (var first = NodeProcess.Start(DataDirectory, port, chains))
        {
            await first.WaitForReadyAsync(TimeSpan.FromSeconds(60));
            var client = new PaymasterClient(first.Http, await PaymasterClient.FirstAdminAsync(first.Http, DataDirectory));
            (var dappId, apiKey) = await client.RegisterDappAsync(surchargeBps: 2_000, directCalls: [(31337, "0x2222222222222222222222222222222222222222")]);
            await client.DepositAsync(dappId, "USDT", "50000000");

            // Blocks stop being mined: the relayed transaction stays pending while the node dies.
            await Rpc.RequestAsync("evm_setAutomine", [false]);
            using var quoteResponse = await client.QuoteAsync(apiKey, new { chainId = 31337, sender = "0x1111111111111111111111111111111111111111",
                to = "0x2222222222222222222222222222222222222222", gasLimit = "60000", feeToken = "USDT", callType = "direct" });
            var quote = await PaymasterClient.ExpectAsync(quoteResponse, HttpStatusCode.Created);
            quoteId = quote.GetProperty("quoteId").GetString()!;
            hold = BigInteger.Parse(quote.GetProperty("maxFee").GetString()!, CultureInfo.InvariantCulture);
            using var executeResponse = await client.ExecuteAsync(apiKey, quoteId, "crash-key");
            txHash = (await PaymasterClient.ExpectAsync(executeResponse, HttpStatusCode.Accepted)).GetProperty("txHash").GetString()!;

            var journal = new JournalProbe(DataDirectory);
            Assert.Equal(1, journal.RowsMentioning("pool.evt.tx-submitted", quoteId));
            Assert.Equal(0, journal.RowsMentioning("pool.evt.tx-confirmed", quoteId));
            Assert.Null(await Rpc.GetTransactionReceiptAsync(txHash));

            await first.KillAsync();
        }

        await Rpc.RequestAsync("evm_mine", []);
        await Rpc.RequestAsync("evm_setAutomine", [true]);
        var receipt = await Rpc.GetTransactionReceiptAsync(txHash);
        Assert.NotNull(receipt);

        using var second = NodeProcess.Start(DataDirectory, port, chains);
        await second.WaitForReadyAsync(TimeSpan.FromSeconds(60));
        var after = new PaymasterClient(second.Http, await PaymasterClient.FirstAdminAsync(second.Http, DataDirectory));
        var settled = await after.WaitForStatusAsync(apiKey, quoteId, "settled", TimeSpan.FromSeconds(30));
        await Task.Delay(1_000); // give a duplicate settlement, if there were one, the time to land

        var probe = new JournalProbe(DataDirectory);
        Assert.Equal(1, probe.RowsMentioning("pool.evt.tx-submitted", quoteId));
        Assert.Equal(1, probe.RowsMentioning("pool.evt.tx-confirmed", quoteId));
        Assert.Equal(1, probe.RowsMentioning("dapp.evt.fee-settled", quoteId));
        Assert.Equal(1, probe.RowsMentioning("dapp.evt.fee-deducted", quoteId));
        var expectedFee = (receipt.GasUsed * receipt.EffectiveGasPrice * 12_000 * 3_000_000_000 + 10_000 * BigInteger.Pow(10, 18) - 1) / (10_000 * BigInteger.Pow(10, 18));
        var stage = settled.GetProperty("timeline").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == "settled");
        Assert.Equal(expectedFee.ToString(CultureInfo.InvariantCulture), stage.GetProperty("fee").GetString());
        Assert.Equal((hold - expectedFee).ToString(CultureInfo.InvariantCulture), stage.GetProperty("refund").GetString());
        var balances = await after.BalancesAsync(apiKey);
        Assert.Equal("0", balances.GetProperty("balances").GetProperty("USDT").GetProperty("held").GetString());
        LedgerLaw.AssertHolds(balances);
    }
}
