using System.Globalization;
using System.Numerics;
using System.Text.Json;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Wallets;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// What the chain itself says about the pool, read block by block, straight from anvil: every transaction mined from
/// a pool wallet must belong to exactly one settled quote (cancels and gap fills, self-sends the pool pays, aside).
/// </summary>
public static class ChainAudit
{
    public sealed record MinedTx(string Hash, string From, string? To, BigInteger Nonce)
    {
        /// <summary>A 0-value self-send: a cancel or a gap fill, paid by the pool and settled by nobody.</summary>
        public bool IsSelfSend => string.Equals(From, To, StringComparison.OrdinalIgnoreCase);
    }

    public static async Task<IReadOnlyList<MinedTx>> PoolTransactionsAsync(EthRpcClient rpc, long chainId, int workers = 2)
    {
        var wallets = new DevWallets("grand-paymaster-devnet");
        var pool = Enumerable.Range(0, workers).Select(i => wallets.PoolWorker(chainId, i).Address.ToChecksumString().ToLowerInvariant()).ToHashSet();
        var head = await rpc.BlockNumberAsync();
        var mined = new List<MinedTx>();
        for (var n = BigInteger.Zero; n <= head; n++)
        {
            var block = await rpc.RequestAsync("eth_getBlockByNumber", [Hex.FormatQuantity(n), true]);
            foreach (var tx in block.GetProperty("transactions").EnumerateArray())
            {
                var from = tx.GetProperty("from").GetString()!.ToLowerInvariant();
                if (!pool.Contains(from)) continue;
                var to = tx.TryGetProperty("to", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()!.ToLowerInvariant() : null;
                mined.Add(new MinedTx(tx.GetProperty("hash").GetString()!, from, to, Hex.ParseQuantity(tx.GetProperty("nonce").GetString()!)));
            }
        }

        return mined;
    }

    /// <summary>
    /// Every relay transaction mined from a pool wallet is the settled transaction of exactly one of
    /// <paramref name="quoteIds"/>, each settled quote's transaction was mined, and no hold is open.
    /// </summary>
    public static async Task AssertEveryPoolTransactionSettledOnceAsync(EthRpcClient rpc, PaymasterClient client, string apiKey, IEnumerable<string> quoteIds,
        int workers = 2)
    {
        var settled = new List<string>();
        foreach (var quoteId in quoteIds)
        {
            var status = await client.QuoteStatusAsync(apiKey, quoteId);
            var stage = status.GetProperty("status").GetString();
            Assert.True(stage is "settled" or "released", $"quote {quoteId} is still {stage}: {status}");
            if (stage == "settled")
                settled.Add(status.GetProperty("timeline").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == "confirmed")
                    .GetProperty("txHash").GetString()!.ToLowerInvariant());
        }

        var relays = (await PoolTransactionsAsync(rpc, 31337, workers)).Where(t => !t.IsSelfSend).Select(t => t.Hash.ToLowerInvariant()).ToArray();
        Assert.Equal(relays.Order(), settled.Order());
        Assert.Equal(relays.Length, relays.Distinct().Count());
        var balances = await client.BalancesAsync(apiKey);
        foreach (var token in balances.GetProperty("balances").EnumerateObject())
            Assert.Equal("0", token.Value.GetProperty("held").GetString());
        LedgerLaw.AssertHolds(balances);
    }

    public static BigInteger Units(JsonElement e, string name) => BigInteger.Parse(e.GetProperty(name).GetString()!, CultureInfo.InvariantCulture);
}
