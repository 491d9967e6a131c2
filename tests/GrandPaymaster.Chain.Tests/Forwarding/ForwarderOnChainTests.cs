using System.Numerics;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Chain.Forwarding;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Tests.Devnet;
using GrandPaymaster.Chain.Transactions;
using GrandPaymaster.Chain.Wallets;
using static GrandPaymaster.Chain.Tests.Contracts.TestAbi;

namespace GrandPaymaster.Chain.Tests.Forwarding;

/// <summary>
/// The deployed forwarder accepts what <see cref="ForwardRequest"/> signs: a user holding no ETH signs, another wallet
/// pays, and the recipient counts the user, not the payer. A replay of the same request is refused by the chain.
/// </summary>
[Collection(AnvilCollection.Name)]
public sealed class ForwarderOnChainTests(AnvilFixture anvil)
{
    private const long ChainId = 31338;

    [Fact]
    public async Task A_request_signed_by_a_user_without_ether_is_executed_with_the_user_as_sender_and_cannot_be_replayed()
    {
        var rpc = anvil.Rpc(anvil.ChainB);
        var contracts = await DevnetContracts.DeployAsync(rpc, ChainId, new DevWallets("forwarder-on-chain").Deployer(ChainId), AnvilDevAccounts.Key(4));
        var user = EthKey.Generate(new Random(77_2771)); // a seed no other test of this chain funds
        var relayer = AnvilDevAccounts.Key(3);
        Assert.Equal(BigInteger.Zero, await rpc.GetBalanceAsync(user.Address.ToChecksumString()));
        var head = await rpc.GetBlockByNumberAsync(BlockTag.Latest) ?? throw new InvalidOperationException("no head");
        var request = new ForwardRequest(user.Address, contracts.SenderRecorder, BigInteger.Zero, 100_000, BigInteger.Zero,
            (ulong)head.Timestamp.ToUnixTimeSeconds() + 3_600, Call("record(bytes)", [.. Word(32), .. Bytes("hello"u8.ToArray())]));
        var signature = Sign(user, request.Digest(ForwarderDomain.For(ChainId, contracts.Forwarder)));
        var execute = Execute(request, signature);

        var sent = await SendAsync(rpc, relayer, contracts.Forwarder, execute);

        Assert.True(sent.Succeeded);
        Assert.Equal([new ExecutedForwardRequest(contracts.Forwarder, user.Address, BigInteger.Zero, true)], ForwarderAbi.Executed(sent.Logs!));
        Assert.Equal(BigInteger.One, await CallsOfAsync(rpc, contracts.SenderRecorder, user.Address));
        Assert.Equal(BigInteger.Zero, await CallsOfAsync(rpc, contracts.SenderRecorder, relayer.Address));
        Assert.Equal(BigInteger.Zero, await rpc.GetBalanceAsync(user.Address.ToChecksumString()));
        await Assert.ThrowsAnyAsync<RpcException>(() =>
            rpc.EstimateGasAsync(new CallRequest(contracts.Forwarder.ToChecksumString(), execute, relayer.Address.ToChecksumString())));
    }

    [Fact]
    public void The_execute_calldata_from_nethereum_equals_the_hand_written_encoding()
    {
        var random = new Random(2771);
        foreach (var dataLength in new[] { 0, 1, 31, 32, 33, 100 })
        {
            var data = new byte[dataLength];
            random.NextBytes(data);
            var signature = new byte[65];
            random.NextBytes(signature);
            var request = new ForwardRequest(EthKey.Generate(random).Address, EthKey.Generate(random).Address, random.Next(), random.NextInt64(21_000, 30_000_000),
                BigInteger.Zero, ForwardRequest.MaxDeadline - (ulong)random.Next(), data);

            Assert.Equal(Hex.Encode(Execute(request, signature)), Hex.Encode(ForwarderAbi.Execute(request, signature)));
        }
    }

    [Fact]
    public async Task Every_way_a_request_is_refused_is_told_apart_and_the_outer_gas_limit_covers_the_call()
    {
        var rpc = anvil.Rpc(anvil.ChainB);
        var contracts = await DevnetContracts.DeployAsync(rpc, ChainId, new DevWallets("forwarder-on-chain").Deployer(ChainId), AnvilDevAccounts.Key(4));
        var domain = ForwarderDomain.For(ChainId, contracts.Forwarder);
        var user = EthKey.Generate(new Random(77_2772));
        var head = await rpc.GetBlockByNumberAsync(BlockTag.Latest) ?? throw new InvalidOperationException("no head");
        var deadline = (ulong)head.Timestamp.ToUnixTimeSeconds() + 3_600;
        var record = Call("record(bytes)", [.. Word(32), .. Bytes(new byte[100])]);
        // The inner gas as the edge estimates it: the target called from the forwarder with the user appended.
        var innerGas = await rpc.EstimateGasAsync(new CallRequest(contracts.SenderRecorder.ToChecksumString(), [.. record, .. user.Address.ToArray()],
            contracts.Forwarder.ToChecksumString()));
        var good = new ForwardRequest(user.Address, contracts.SenderRecorder, BigInteger.Zero, innerGas, BigInteger.Zero, deadline, record);
        var nonTrusting = await anvil.SetCodeAsync(anvil.ChainB, "0x6001600055" + "00");

        var outer = await rpc.EstimateGasAsync(ExecuteCall(contracts.Forwarder, good, Sign(user, good.Digest(domain))));
        Assert.InRange(outer, innerGas, ForwarderAbi.OuterGasLimit(innerGas, record.Length));

        Assert.Equal(ForwarderRefusal.InvalidSigner, await RefusalAsync(rpc, contracts.Forwarder, good, Sign(EthKey.Generate(), good.Digest(domain))));
        Assert.Equal(ForwarderRefusal.InvalidSigner, await RefusalAsync(rpc, contracts.Forwarder, good with { Nonce = 1 }, Sign(user, (good with { Nonce = 1 }).Digest(domain))));
        var expired = good with { Deadline = (ulong)head.Timestamp.ToUnixTimeSeconds() - 1 };
        Assert.Equal(ForwarderRefusal.Expired, await RefusalAsync(rpc, contracts.Forwarder, expired, Sign(user, expired.Digest(domain))));
        var untrusting = good with { To = nonTrusting };
        Assert.Equal(ForwarderRefusal.UntrustedTarget, await RefusalAsync(rpc, contracts.Forwarder, untrusting, Sign(user, untrusting.Digest(domain))));
        var reverting = good with { Data = Hex.Decode("0xdeadbeef") };
        Assert.Equal(ForwarderRefusal.CallReverts, await RefusalAsync(rpc, contracts.Forwarder, reverting, Sign(user, reverting.Digest(domain))));

        Assert.Equal(BigInteger.Zero, ForwarderAbi.DecodeUint(await rpc.CallAsync(new CallRequest(contracts.Forwarder.ToChecksumString(), ForwarderAbi.Nonces(user.Address)))));
        Assert.True(ForwarderAbi.DecodeBool(await rpc.CallAsync(new CallRequest(contracts.SenderRecorder.ToChecksumString(), ForwarderAbi.IsTrustedForwarder(contracts.Forwarder)))));
        Assert.False(ForwarderAbi.DecodeBool(await rpc.CallAsync(new CallRequest(contracts.SenderRecorder.ToChecksumString(), ForwarderAbi.IsTrustedForwarder(user.Address)))));
        Assert.False(ForwarderAbi.DecodeBool(await rpc.CallAsync(new CallRequest(nonTrusting.ToChecksumString(), ForwarderAbi.IsTrustedForwarder(contracts.Forwarder)))));
    }

    private static CallRequest ExecuteCall(EthAddress forwarder, ForwardRequest request, byte[] signature) =>
        new(forwarder.ToChecksumString(), ForwarderAbi.Execute(request, signature));

    private static async Task<ForwarderRefusal> RefusalAsync(EthRpcClient rpc, EthAddress forwarder, ForwardRequest request, byte[] signature)
    {
        var revert = await Assert.ThrowsAsync<RpcRevertException>(() => rpc.EstimateGasAsync(ExecuteCall(forwarder, request, signature)));
        return ForwarderAbi.Refusal(revert.ErrorData);
    }

    private static async Task<TransactionReceipt> SendAsync(EthRpcClient rpc, EthKey from, EthAddress to, byte[] data)
    {
        var nonce = await rpc.GetTransactionCountAsync(from.Address.ToChecksumString(), BlockTag.Pending);
        var tx = new Eip1559Transaction(ChainId, nonce, 1_000_000_000, 100_000_000_000, 500_000, to, BigInteger.Zero, data).Sign(from);
        await rpc.SendRawTransactionAsync(tx.Raw);
        return await DevnetFunder.WaitForReceiptAsync(rpc, tx.TxHashHex);
    }

    private static async Task<BigInteger> CallsOfAsync(EthRpcClient rpc, EthAddress recorder, EthAddress who) =>
        new(await rpc.CallAsync(new CallRequest(recorder.ToChecksumString(), Call("calls(address)", Word(who)))), isUnsigned: true, isBigEndian: true);

    /// <summary>execute((address from,address to,uint256 value,uint256 gas,uint48 deadline,bytes data,bytes signature)).</summary>
    private static byte[] Execute(ForwardRequest r, byte[] signature)
    {
        var data = Bytes(r.Data);
        var sig = Bytes(signature);
        byte[] tuple = [.. Word(r.From), .. Word(r.To), .. Word(r.Value), .. Word(r.Gas), .. Word(r.Deadline), .. Word(7 * 32), .. Word(7 * 32 + data.Length), .. data, .. sig];
        return Call("execute((address,address,uint256,uint256,uint48,bytes,bytes))", [.. Word(32), .. tuple]);
    }

    private static byte[] Sign(EthKey key, byte[] digest) => Signature(key.Sign(digest));
}
