using System.Numerics;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Domain.Pools;
using Address = GrandPaymaster.Domain.Common.Address;

namespace GrandPaymaster.Actors.Vault;

/// <summary>A mined transaction as the vault needs to know it.</summary>
public sealed record VaultReceipt(BigInteger BlockNumber, bool Succeeded);

/// <summary>What the vault asks of a chain: its nonce, the head's base fee, broadcasts (accepted / refused / unknown), receipts.</summary>
public interface IVaultChain
{
    /// <summary>The wallet's transaction count including pending ones (null block), or at a block.</summary>
    Task<BigInteger> NonceAsync(Address wallet, BigInteger? block, CancellationToken ct);

    Task<(BigInteger Number, BigInteger? BaseFee)> HeadAsync(CancellationToken ct);

    /// <summary>Never throws for RPC failures: they are <see cref="BroadcastVerdict.Unknown"/>.</summary>
    Task<(BroadcastVerdict Verdict, string Reason)> BroadcastAsync(string rawTx, CancellationToken ct);

    Task<VaultReceipt?> ReceiptAsync(string txHash, CancellationToken ct);

    /// <summary>Whether the node knows the transaction at all (pending or mined).</summary>
    Task<bool> IsKnownAsync(string txHash, CancellationToken ct);
}

/// <summary>The vault's chain adapter over the same RPC endpoints (failover, circuit breakers, broadcast classification) the pools use.</summary>
public sealed class RpcVaultChain(IPoolChain chain) : IVaultChain
{
    public Task<BigInteger> NonceAsync(Address wallet, BigInteger? block, CancellationToken ct) => chain.NonceAsync(wallet, block, ct);

    public async Task<(BigInteger Number, BigInteger? BaseFee)> HeadAsync(CancellationToken ct)
    {
        var head = await chain.HeadAsync(ct);
        return (head.Number, head.BaseFee);
    }

    public Task<(BroadcastVerdict Verdict, string Reason)> BroadcastAsync(string rawTx, CancellationToken ct) => chain.BroadcastAsync(rawTx, ct);

    public async Task<VaultReceipt?> ReceiptAsync(string txHash, CancellationToken ct) =>
        await chain.ReceiptAsync(txHash, ct) is { } receipt ? new VaultReceipt(receipt.BlockNumber, receipt.Succeeded) : null;

    public Task<bool> IsKnownAsync(string txHash, CancellationToken ct) => chain.IsKnownAsync(txHash, ct);
}
