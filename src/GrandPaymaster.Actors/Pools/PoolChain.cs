using System.Numerics;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Chain.Forwarding;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Domain.Pools;
using Address = GrandPaymaster.Domain.Common.Address;
using ChainVerdict = GrandPaymaster.Chain.Rpc.BroadcastVerdict;

namespace GrandPaymaster.Actors.Pools;

/// <summary>The chain's head as the pool sees it: number, hash and the base fee that prices a cancel.</summary>
public sealed record ChainHead(BigInteger Number, string Hash, BigInteger? BaseFee);

/// <summary>
/// A receipt of one of our transactions, with the block it is in (a reorg can take it out again) and the forwarder's
/// <c>ExecutedForwardRequest</c> events it carries.
/// </summary>
public sealed record FoundReceipt(string TxHash, BigInteger BlockNumber, string BlockHash, BigInteger GasUsed, BigInteger EffectiveGasPrice, bool Succeeded,
    IReadOnlyList<ForwardExecution>? Forwarded = null);

/// <summary>
/// Everything a pool asks of its chain. <see cref="RpcPoolChain"/> does it over the chain's RPC endpoints with failover;
/// tests give a pool a scripted one.
/// </summary>
public interface IPoolChain
{
    /// <summary>False while every endpoint's circuit is open: calls would fail at once.</summary>
    bool AnyAvailable { get; }

    /// <summary>RPC calls made to find receipts (per block, per block hash check, per fallback lookup): the cost of settling.</summary>
    long ReceiptLookups { get; }

    Task<ChainHead> HeadAsync(CancellationToken ct = default);

    /// <summary>Every receipt of a block, or null while the node does not have it (a lagging node).</summary>
    Task<IReadOnlyList<FoundReceipt>?> BlockReceiptsAsync(BigInteger block, CancellationToken ct = default);

    /// <summary>The canonical hash at a height, or null when there is no such block yet.</summary>
    Task<string?> BlockHashAsync(BigInteger block, CancellationToken ct = default);

    Task<FoundReceipt?> ReceiptAsync(string txHash, CancellationToken ct = default);

    /// <summary>Whether the chain knows the transaction as part of a block (not merely pending).</summary>
    Task<bool> IsMinedAsync(string txHash, CancellationToken ct = default);

    /// <summary>Whether the node knows the transaction at all: pending in its mempool or mined.</summary>
    Task<bool> IsKnownAsync(string txHash, CancellationToken ct = default);

    /// <summary>The wallet's transaction count: at <paramref name="block"/>, or including pending ones when null.</summary>
    Task<BigInteger> NonceAsync(Address wallet, BigInteger? block, CancellationToken ct = default);

    /// <summary>Sends a raw transaction; never throws for RPC failures (they are an <see cref="BroadcastVerdict.Unknown"/> verdict).</summary>
    Task<(Domain.Pools.BroadcastVerdict Verdict, string Reason)> BroadcastAsync(string rawTx, CancellationToken ct = default);

    /// <summary>Simulates a forwarded relay (<c>forwarder.execute</c>) on the chain's current state; never throws (an outage is <see cref="PreflightVerdict.Unknown"/>).</summary>
    Task<PreflightVerdict> PreflightAsync(PoolCommands.RelayTransaction relay, CancellationToken ct = default);
}

/// <summary>A pool's chain over its configured RPC endpoints (failover, circuit breakers, chain id checks: <see cref="ChainEndpoints"/>).</summary>
public sealed class RpcPoolChain(ChainEndpoints endpoints) : IPoolChain
{
    private long _receiptLookups;

    public bool AnyAvailable => endpoints.AnyAvailable;

    public long ReceiptLookups => Interlocked.Read(ref _receiptLookups);

    public async Task<ChainHead> HeadAsync(CancellationToken ct = default)
    {
        var block = await endpoints.CallAsync((c, t) => c.GetBlockByNumberAsync(BlockTag.Latest, t), ct)
                    ?? throw new InvalidOperationException("The node has no latest block.");
        return new ChainHead(block.Number, block.Hash, block.BaseFeePerGas);
    }

    public async Task<IReadOnlyList<FoundReceipt>?> BlockReceiptsAsync(BigInteger block, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _receiptLookups);
        var receipts = await endpoints.CallAsync((c, t) => c.GetBlockReceiptsAsync(BlockTag.Number(block), t), ct);
        return receipts?.Select(Found).ToArray();
    }

    public async Task<string?> BlockHashAsync(BigInteger block, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _receiptLookups);
        return (await endpoints.CallAsync((c, t) => c.GetBlockByNumberAsync(BlockTag.Number(block), t), ct))?.Hash;
    }

    public async Task<FoundReceipt?> ReceiptAsync(string txHash, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _receiptLookups);
        var receipt = await endpoints.CallAsync((c, t) => c.GetTransactionReceiptAsync(txHash, t), ct);
        return receipt is null ? null : Found(receipt);
    }

    public async Task<bool> IsMinedAsync(string txHash, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _receiptLookups);
        return await endpoints.CallAsync((c, t) => c.GetTransactionBlockNumberAsync(txHash, t), ct) is not null;
    }

    public Task<bool> IsKnownAsync(string txHash, CancellationToken ct = default) =>
        endpoints.CallAsync((c, t) => c.KnowsTransactionAsync(txHash, t), ct);

    public Task<BigInteger> NonceAsync(Address wallet, BigInteger? block, CancellationToken ct = default) =>
        endpoints.CallAsync((c, t) => c.GetTransactionCountAsync(wallet.ToChain().ToChecksumString(), block is { } b ? BlockTag.Number(b) : BlockTag.Pending, t), ct);

    public async Task<(Domain.Pools.BroadcastVerdict Verdict, string Reason)> BroadcastAsync(string rawTx, CancellationToken ct = default)
    {
        var outcome = await endpoints.BroadcastAsync(Hex.Decode(rawTx), ct);
        return (outcome.Verdict switch
        {
            ChainVerdict.Accepted => Domain.Pools.BroadcastVerdict.Accepted,
            ChainVerdict.Refused => Domain.Pools.BroadcastVerdict.Refused,
            ChainVerdict.NonceTooLow => Domain.Pools.BroadcastVerdict.NonceTooLow,
            _ => Domain.Pools.BroadcastVerdict.Unknown,
        }, outcome.Reason);
    }

    /// <summary>
    /// Asks the chain whether the forwarder would execute the relay now. A refusal for the signer is told apart by the
    /// user's nonce on the forwarder: below the request's, an earlier request has yet to be mined; past it, the request is spent.
    /// </summary>
    public async Task<PreflightVerdict> PreflightAsync(PoolCommands.RelayTransaction relay, CancellationToken ct = default)
    {
        var call = relay.Forward ?? throw new ArgumentException("Only a forwarded relay is simulated before it is signed.", nameof(relay));
        try
        {
            // One eth_call with the relay's gas limit: it succeeds only if the transaction fits in what the hold covers.
            await endpoints.CallAsync((c, t) => c.CallAsync(new CallRequest(relay.To.Value, Hex.Decode(relay.DataHex), Gas: relay.GasLimit), null, t), ct);
            return PreflightVerdict.Passes;
        }
        catch (RpcRevertException e)
        {
            switch (ForwarderAbi.Refusal(e.ErrorData))
            {
                case ForwarderRefusal.Expired:
                    return PreflightVerdict.Expired;
                case ForwarderRefusal.UntrustedTarget:
                    return PreflightVerdict.UntrustedTarget;
                case ForwarderRefusal.InvalidSigner:
                    var output = await endpoints.CallAsync((c, t) => c.CallAsync(new CallRequest(call.Forwarder.Value, ForwarderAbi.Nonces(call.User.ToChain())), null, t), ct);
                    var nonce = ForwarderAbi.DecodeUint(output);
                    return nonce < call.UserNonce ? PreflightVerdict.NonceAhead : nonce > call.UserNonce ? PreflightVerdict.NonceUsed : PreflightVerdict.CallReverts;
                default:
                    return PreflightVerdict.CallReverts;
            }
        }
        catch (RpcErrorException)
        {
            return PreflightVerdict.CallReverts; // the node's answer (out of gas within the hold's limit, say), not an outage
        }
        catch (Exception e) when (e is RpcException or FormatException)
        {
            return PreflightVerdict.Unknown;
        }
    }

    private static FoundReceipt Found(TransactionReceipt r) =>
        new(r.TransactionHash, r.BlockNumber, r.BlockHash, r.GasUsed, r.EffectiveGasPrice, r.Succeeded, Executions(r.Logs));

    private static IReadOnlyList<ForwardExecution>? Executions(IReadOnlyList<ReceiptLog>? logs) =>
        logs is null or { Count: 0 }
            ? null
            : ForwarderAbi.Executed(logs).Select(e => new ForwardExecution(e.Forwarder.ToDomain(), e.Signer.ToDomain(), e.Nonce, e.Success)).ToArray() is { Length: > 0 } found
                ? found
                : null;
}
