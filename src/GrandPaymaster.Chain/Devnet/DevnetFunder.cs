using System.Numerics;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Transactions;

namespace GrandPaymaster.Chain.Devnet;

/// <summary>
/// Tops the project's own wallets up from an anvil dev account with real signed transfers, so a fresh
/// devnet starts with funded pool and vault wallets. A wallet already at or above its target is left alone.
/// </summary>
public static class DevnetFunder
{
    public static readonly BigInteger Ether = BigInteger.Pow(10, 18);
    private static readonly BigInteger TransferGas = 21_000;

    /// <returns>The hashes of the transfers it sent (empty when every wallet was already funded).</returns>
    public static async Task<IReadOnlyList<string>> FundAsync(
        EthRpcClient rpc, long chainId, EthKey funder, IEnumerable<(EthAddress Wallet, BigInteger Target)> wallets, CancellationToken ct = default)
    {
        var sent = new List<string>();
        var nonce = await rpc.GetTransactionCountAsync(funder.Address.ToChecksumString(), BlockTag.Pending, ct);
        foreach (var (wallet, target) in wallets)
        {
            var balance = await rpc.GetBalanceAsync(wallet.ToChecksumString(), BlockTag.Latest, ct);
            if (balance >= target) continue;

            var block = await rpc.GetBlockByNumberAsync(BlockTag.Latest, ct)
                        ?? throw new InvalidOperationException("The chain has no latest block.");
            var priorityFee = await rpc.MaxPriorityFeePerGasAsync(ct);
            var maxFee = (block.BaseFeePerGas ?? 0) * 2 + priorityFee;
            var transfer = new Eip1559Transaction(chainId, nonce++, priorityFee, maxFee, TransferGas, wallet, target - balance, []);
            sent.Add(await rpc.SendRawTransactionAsync(transfer.Sign(funder).Raw, ct));
        }

        foreach (var hash in sent) await WaitForReceiptAsync(rpc, hash, ct);
        return sent;
    }

    /// <summary>Polls until the transaction is mined; throws when it reverted or never appears.</summary>
    public static async Task<TransactionReceipt> WaitForReceiptAsync(EthRpcClient rpc, string hash, CancellationToken ct = default,
        TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var receipt = await rpc.GetTransactionReceiptAsync(hash, ct);
            if (receipt is not null)
                return receipt.Succeeded ? receipt : throw new InvalidOperationException($"Transaction {hash} reverted.");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Transaction {hash} was not mined in time.");
            await Task.Delay(50, ct);
        }
    }
}
