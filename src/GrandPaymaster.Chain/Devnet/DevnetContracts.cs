using System.Numerics;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Transactions;
using GrandPaymaster.Contracts;

namespace GrandPaymaster.Chain.Devnet;

/// <summary>Where the project's contracts live on a devnet chain.</summary>
public sealed record DevnetContractAddresses(EthAddress Forwarder, EthAddress SenderRecorder);

/// <summary>
/// Deploys the project's contracts on a devnet chain from one deployer wallet at its nonces 0 and 1, so they are at
/// the same addresses on every start (an address created by a transaction depends only on its sender and nonce).
/// Deploying again changes nothing.
/// </summary>
public static class DevnetContracts
{
    private static readonly BigInteger DeployerFunding = 10 * DevnetFunder.Ether;
    private const long DeployGas = 3_000_000;

    /// <summary>The addresses the deployer's first two transactions create.</summary>
    public static DevnetContractAddresses AddressesFor(EthAddress deployer) => new(CreatedAddress(deployer, 0), CreatedAddress(deployer, 1));

    /// <summary>The address a contract-creating transaction of <paramref name="sender"/> at <paramref name="nonce"/> deploys to.</summary>
    public static EthAddress CreatedAddress(EthAddress sender, BigInteger nonce) =>
        new(Keccak256.Hash(Rlp.EncodeList([Rlp.EncodeBytes(sender.ToArray()), Rlp.EncodeScalar(nonce)]))[12..]);

    public static async Task<DevnetContractAddresses> DeployAsync(EthRpcClient rpc, long chainId, EthKey deployer, EthKey funder, CancellationToken ct = default)
    {
        var addresses = AddressesFor(deployer.Address);
        await DevnetFunder.FundAsync(rpc, chainId, funder, [(deployer.Address, DeployerFunding)], ct);
        var nonce = await rpc.GetTransactionCountAsync(deployer.Address.ToChecksumString(), BlockTag.Latest, ct);
        if (nonce == 0) await CreateAsync(rpc, chainId, deployer, nonce++, ContractArtifact.Forwarder.Bytecode, ct);
        if (nonce == 1)
            await CreateAsync(rpc, chainId, deployer, nonce, [.. ContractArtifact.SenderRecorder.Bytecode, .. new byte[12], .. addresses.Forwarder.ToArray()], ct);

        foreach (var (name, address) in new[] { ("forwarder", addresses.Forwarder), ("SenderRecorder", addresses.SenderRecorder) })
        {
            var code = await rpc.RequestAsync("eth_getCode", [address.ToChecksumString(), "latest"], ct: ct);
            if (code.GetString() is null or "0x")
                throw new InvalidOperationException($"No {name} code at {address} on chain {chainId}: the deployer {deployer.Address} was used for something else.");
        }

        return addresses;
    }

    private static async Task CreateAsync(EthRpcClient rpc, long chainId, EthKey deployer, BigInteger nonce, byte[] code, CancellationToken ct)
    {
        var block = await rpc.GetBlockByNumberAsync(BlockTag.Latest, ct) ?? throw new InvalidOperationException("The chain has no latest block.");
        var priorityFee = await rpc.MaxPriorityFeePerGasAsync(ct);
        var create = new Eip1559Transaction(chainId, nonce, priorityFee, (block.BaseFeePerGas ?? 0) * 2 + priorityFee, DeployGas, null, BigInteger.Zero, code)
            .Sign(deployer);
        await rpc.SendRawTransactionAsync(create.Raw, ct);
        var receipt = await DevnetFunder.WaitForReceiptAsync(rpc, create.TxHashHex, ct);
        if (!receipt.Succeeded) throw new InvalidOperationException($"Deploying at nonce {nonce} of {deployer.Address} reverted.");
    }
}
