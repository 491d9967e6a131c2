using System.Net;
using System.Net.Sockets;
using System.Numerics;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Tests.Devnet;

namespace GrandPaymaster.Chain.Tests.Rpc;

[Collection(AnvilCollection.Name)]
public sealed class EthRpcClientTests(AnvilFixture anvil)
{
    /// <summary>Runtime code <c>PUSH1 0 PUSH1 0 REVERT</c>: every call to it reverts.</summary>
    private const string AlwaysRevertsCode = "0x60006000fd";

    private EthRpcClient Rpc => anvil.Rpc(anvil.ChainA);

    [Fact]
    public async Task Chain_queries_return_typed_quantities()
    {
        var dev = AnvilDevAccounts.Key(0).Address.ToChecksumString();

        Assert.True(await Rpc.BlockNumberAsync() >= 0);
        Assert.True(await Rpc.GasPriceAsync() > 0);
        Assert.True(await Rpc.MaxPriorityFeePerGasAsync() >= 0);
        Assert.True(await Rpc.GetBalanceAsync(dev) > 0);
        Assert.True(await Rpc.GetTransactionCountAsync(dev, BlockTag.Pending) >= 0);
        var block = await Rpc.GetBlockByNumberAsync(BlockTag.Latest);
        Assert.NotNull(block);
        Assert.NotNull(block.BaseFeePerGas);
        var history = await Rpc.FeeHistoryAsync(1, BlockTag.Latest, [50]);
        Assert.NotEmpty(history.BaseFeePerGas);
        var pool = await Rpc.TxPoolStatusAsync();
        Assert.True(pool.Pending >= 0 && pool.Queued >= 0);
        Assert.Equal(21000, await Rpc.EstimateGasAsync(new CallRequest(To: AnvilDevAccounts.Key(4).Address.ToChecksumString(), From: dev)));
        Assert.Null(await Rpc.GetTransactionReceiptAsync("0x" + new string('0', 64)));
    }

    [Fact]
    public async Task A_type_2_transaction_signed_by_our_code_is_mined_and_its_receipt_read_back()
    {
        var sender = AnvilDevAccounts.Key(2);
        var recipient = EthKey.Generate(new Random(1)).Address;
        var nonce = await Rpc.GetTransactionCountAsync(sender.Address.ToChecksumString(), BlockTag.Pending);
        var baseFee = (await Rpc.GetBlockByNumberAsync(BlockTag.Latest))!.BaseFeePerGas!.Value;
        var tx = new GrandPaymaster.Chain.Transactions.Eip1559Transaction(31337, nonce, 1_000_000_000, baseFee * 2 + 1_000_000_000, 21_000, recipient, 12345, []);
        var signed = tx.Sign(sender);

        var hash = await Rpc.SendRawTransactionAsync(signed.Raw);
        var receipt = await DevnetFunder.WaitForReceiptAsync(Rpc, hash);

        Assert.Equal(signed.TxHashHex, hash);
        Assert.True(receipt.Succeeded);
        Assert.Equal(2, receipt.Type);
        Assert.Equal(21000, receipt.GasUsed);
        Assert.Equal(sender.Address, EthAddress.Parse(receipt.From));
        Assert.Equal(new BigInteger(12345), await Rpc.GetBalanceAsync(recipient.ToChecksumString()));
    }

    [Fact]
    public async Task A_legacy_eip155_transaction_signed_by_our_code_is_mined_and_its_receipt_read_back()
    {
        var sender = AnvilDevAccounts.Key(3);
        var recipient = EthKey.Generate(new Random(2)).Address;
        var nonce = await Rpc.GetTransactionCountAsync(sender.Address.ToChecksumString(), BlockTag.Pending);
        var gasPrice = await Rpc.GasPriceAsync() * 2;
        var signed = new GrandPaymaster.Chain.Transactions.LegacyTransaction(nonce, gasPrice, 21_000, recipient, 777, [], 31337).Sign(sender);

        var hash = await Rpc.SendRawTransactionAsync(signed.Raw);
        var receipt = await DevnetFunder.WaitForReceiptAsync(Rpc, hash);

        Assert.Equal(signed.TxHashHex, hash);
        Assert.True(receipt.Succeeded);
        Assert.Equal(0, receipt.Type);
        Assert.Equal(gasPrice, receipt.EffectiveGasPrice);
        Assert.Equal(21000 * gasPrice, receipt.Cost);
    }

    [Fact]
    public async Task A_reverting_call_surfaces_as_a_revert()
    {
        var target = EthKey.Generate(new Random(3)).Address.ToChecksumString();
        await Rpc.RequestAsync("anvil_setCode", [target, AlwaysRevertsCode]);

        var error = await Assert.ThrowsAsync<RpcRevertException>(() => Rpc.CallAsync(new CallRequest(target, Data: [1, 2, 3])));

        Assert.Equal("eth_call", error.Method);
    }

    [Fact]
    public async Task A_revert_with_a_reason_string_carries_the_decoded_reason()
    {
        // Runtime code that reverts with Error("no") : stores the ABI payload in memory and reverts with it.
        var payload = "08c379a0" + "0000000000000000000000000000000000000000000000000000000000000020"
                      + "0000000000000000000000000000000000000000000000000000000000000002" + "6e6f".PadRight(64, '0');
        var code = BuildRevertWith(Hex.Decode(payload));
        var target = EthKey.Generate(new Random(4)).Address.ToChecksumString();
        await Rpc.RequestAsync("anvil_setCode", [target, Hex.Encode(code)]);

        var error = await Assert.ThrowsAsync<RpcRevertException>(() => Rpc.EstimateGasAsync(new CallRequest(target)));

        Assert.Equal("no", error.Reason);
    }

    [Fact]
    public async Task An_rpc_error_surfaces_with_its_code_and_is_not_a_revert()
    {
        var error = await Assert.ThrowsAsync<RpcErrorException>(() => Rpc.SendRawTransactionAsync([0xde, 0xad]));

        Assert.IsNotType<RpcRevertException>(error);
        Assert.NotEqual(0, error.Code);
    }

    [Fact]
    public async Task An_unknown_method_is_an_rpc_error()
    {
        var error = await Assert.ThrowsAsync<RpcErrorException>(() => Rpc.RequestAsync("eth_noSuchMethod", []));
        Assert.Equal(-32601, error.Code);
    }

    [Fact]
    public async Task A_silent_endpoint_surfaces_as_a_timeout_within_the_call_timeout()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = silent.AcceptSocketAsync();
        var client = new EthRpcClient(anvil.Http, new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}"), TimeSpan.FromMilliseconds(300));

        var started = DateTime.UtcNow;
        var error = await Assert.ThrowsAsync<RpcTimeoutException>(() => client.ChainIdAsync());

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.FromMilliseconds(300), error.Timeout);
        (await accepted).Dispose();
    }

    [Fact]
    public async Task A_closed_port_surfaces_as_a_transport_failure()
    {
        var client = new EthRpcClient(anvil.Http, new Uri($"http://127.0.0.1:{DevnetChainSpec.FreeLoopbackPort()}"));

        await Assert.ThrowsAsync<RpcTransportException>(() => client.ChainIdAsync());
    }

    [Fact]
    public async Task The_callers_cancellation_is_a_cancellation_not_a_timeout()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Rpc.ChainIdAsync(cts.Token));
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1}")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0xzz\"}")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":42}")]
    public async Task A_response_that_is_not_json_rpc_surfaces_as_malformed(string body)
    {
        await using var server = await CannedHttpServer.StartAsync(body);
        var client = new EthRpcClient(anvil.Http, server.Url);

        await Assert.ThrowsAsync<RpcMalformedResponseException>(() => client.ChainIdAsync());
    }

    /// <summary>Init code-free runtime code: MSTORE the payload 32 bytes at a time, then REVERT(0, len).</summary>
    private static byte[] BuildRevertWith(byte[] payload)
    {
        var code = new List<byte>();
        for (var offset = 0; offset < payload.Length; offset += 32)
        {
            code.Add(0x7f); // PUSH32 word
            code.AddRange(payload.Skip(offset).Take(32).Concat(new byte[32]).Take(32));
            code.AddRange([0x60, (byte)offset, 0x52]); // PUSH1 offset, MSTORE
        }

        code.AddRange([0x60, (byte)payload.Length, 0x60, 0x00, 0xfd]); // PUSH1 len, PUSH1 0, REVERT
        return code.ToArray();
    }
}
