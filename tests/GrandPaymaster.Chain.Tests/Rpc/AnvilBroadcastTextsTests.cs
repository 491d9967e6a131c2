using System.Numerics;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Transactions;

namespace GrandPaymaster.Chain.Tests.Rpc;

/// <summary>One anvil of its own, since these tests switch automine off and move the base fee.</summary>
public sealed class PrivateAnvilFixture : IAsyncLifetime
{
    public const long ChainId = 4243;

    public HttpClient Http { get; } = new() { Timeout = Timeout.InfiniteTimeSpan };
    public DevnetLauncher Launcher { get; private set; } = null!;
    public EthRpcClient Rpc { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Launcher = await DevnetLauncher.StartAsync([new DevnetChainSpec("texts", ChainId, DevnetChainSpec.FreeLoopbackPort())], Http);
        Rpc = new EthRpcClient(Http, Launcher.Chains[0].RpcUrl, label: "texts#0");
    }

    public async Task DisposeAsync()
    {
        await Launcher.DisposeAsync();
        Http.Dispose();
    }
}

/// <summary>
/// Provokes anvil's refusals for real and pins their exact texts (anvil 1.7.1), so the classifier is tested
/// against what the node says, not against what we remember it saying.
/// </summary>
public sealed class AnvilBroadcastTextsTests(PrivateAnvilFixture anvil) : IClassFixture<PrivateAnvilFixture>
{
    private static readonly EthAddress Recipient = EthKey.Generate(new Random(42)).Address;

    private EthRpcClient Rpc => anvil.Rpc;

    [Fact]
    public async Task A_wallet_without_balance_is_refused_for_insufficient_funds()
    {
        var empty = EthKey.Generate(new Random(100));
        await Rpc.RequestAsync("anvil_setBalance", [empty.Address.ToChecksumString(), "0x0"]);

        var error = await RefusalOf((await TransferAsync(empty)).Sign(empty));

        AssertAnswer(error, -32003, "Insufficient funds for gas * price + value", BroadcastVerdict.Refused, RefusalKind.InsufficientFunds);
    }

    [Fact]
    public async Task A_used_nonce_is_nonce_too_low()
    {
        var sender = AnvilDevAccounts.Key(0);
        var first = (await TransferAsync(sender)).Sign(sender);
        await DevnetFunder.WaitForReceiptAsync(Rpc, await Rpc.SendRawTransactionAsync(first.Raw));

        var error = await RefusalOf(first.Raw);

        AssertAnswer(error, -32003, "nonce too low", BroadcastVerdict.NonceTooLow, RefusalKind.None);
    }

    [Fact]
    public async Task A_gas_limit_below_the_intrinsic_cost_is_refused()
    {
        var error = await RefusalOfTransferAsync(tx => tx with { GasLimit = 20_000 });

        AssertAnswer(error, -32000, "intrinsic gas too low", BroadcastVerdict.Refused, RefusalKind.IntrinsicGasTooLow);
    }

    [Fact]
    public async Task A_gas_limit_above_the_block_gas_limit_is_refused()
    {
        var error = await RefusalOfTransferAsync(tx => tx with { GasLimit = 100_000_000 });

        AssertAnswer(error, -32000, "intrinsic gas too high -- tx.gas_limit > env.block.gas_limit", BroadcastVerdict.Refused,
            RefusalKind.GasLimitTooHigh);
    }

    [Fact]
    public async Task A_signature_for_another_chain_is_refused()
    {
        var error = await RefusalOfTransferAsync(tx => tx with { ChainId = 1 });

        AssertAnswer(error, -32003, "invalid chain id for signer", BroadcastVerdict.Refused, RefusalKind.InvalidSignature);
    }

    [Fact]
    public async Task A_priority_fee_above_the_max_fee_is_refused()
    {
        var error = await RefusalOfTransferAsync(tx => tx with { MaxPriorityFeePerGas = tx.MaxFeePerGas + 1 });

        AssertAnswer(error, -32003, "max priority fee per gas higher than max fee per gas", BroadcastVerdict.Refused, RefusalKind.TipAboveFeeCap);
    }

    [Fact]
    public async Task Bytes_that_are_no_transaction_are_refused_as_undecodable()
    {
        var error = await RefusalOf([0x02, 0xc0]);

        AssertAnswer(error, -32602, "Failed to decode transaction", BroadcastVerdict.Refused, RefusalKind.Undecodable);
    }

    [Fact]
    public async Task A_max_fee_below_the_next_base_fee_is_refused_outright_and_not_kept()
    {
        var sender = AnvilDevAccounts.Key(2);
        var tx = await TransferAsync(sender);
        var baseFee = await BaseFeeAsync();
        await Rpc.RequestAsync("anvil_setNextBlockBaseFeePerGas", [Hex.FormatQuantity(baseFee * 100)]);
        var below = (tx with { MaxFeePerGas = baseFee * 50, MaxPriorityFeePerGas = 1 }).Sign(sender);
        try
        {
            var error = await RefusalOf(below.Raw);

            AssertAnswer(error, -32003, "max fee per gas less than block base fee", BroadcastVerdict.Refused, RefusalKind.FeeTooLow);
            // Refused outright: anvil neither mined nor parked it, so it can never be mined without a new broadcast.
            Assert.Equal(System.Text.Json.JsonValueKind.Null, (await Rpc.RequestAsync("eth_getTransactionByHash", [below.TxHashHex])).ValueKind);
            var pool = await Rpc.TxPoolStatusAsync();
            Assert.Equal(BigInteger.Zero, pool.Pending + pool.Queued);
        }
        finally
        {
            await Rpc.RequestAsync("evm_mine", []);
        }
    }

    [Fact]
    public async Task The_same_transaction_sent_twice_is_already_imported_and_a_cheaper_replacement_is_underpriced()
    {
        var sender = AnvilDevAccounts.Key(3);
        var tx = await TransferAsync(sender);
        await Rpc.RequestAsync("evm_setAutomine", [false]);
        try
        {
            var signed = tx.Sign(sender);
            await Rpc.SendRawTransactionAsync(signed.Raw);

            var again = await RefusalOf(signed.Raw);
            var replacement = await RefusalOf((tx with { Value = tx.Value + 1 }).Sign(sender));

            AssertAnswer(again, -32003, "transaction already imported", BroadcastVerdict.Unknown, RefusalKind.None);
            Assert.Equal("unknown: already known", BroadcastClassifier.Classify(again).Reason);
            AssertAnswer(replacement, -32003, "replacement transaction underpriced", BroadcastVerdict.Unknown, RefusalKind.None);
        }
        finally
        {
            await Rpc.RequestAsync("evm_setAutomine", [true]);
            await Rpc.RequestAsync("evm_mine", []);
        }
    }

    private static void AssertAnswer(RpcErrorException error, long code, string text, BroadcastVerdict verdict, RefusalKind kind)
    {
        Assert.Equal(text, error.RpcMessage);
        Assert.Equal(code, error.Code);
        var outcome = BroadcastClassifier.Classify(error);
        Assert.Equal(verdict, outcome.Verdict);
        Assert.Equal(kind, outcome.Refusal);
    }

    private Task<RpcErrorException> RefusalOf(SignedTransaction signed) => RefusalOf(signed.Raw);

    /// <summary>What anvil answers to a valid transfer of a funded dev account, changed by <paramref name="change"/>.</summary>
    private async Task<RpcErrorException> RefusalOfTransferAsync(Func<Eip1559Transaction, Eip1559Transaction> change)
    {
        var sender = AnvilDevAccounts.Key(1);
        return await RefusalOf(change(await TransferAsync(sender)).Sign(sender));
    }

    private Task<RpcErrorException> RefusalOf(byte[] raw) =>
        Assert.ThrowsAsync<RpcErrorException>(() => Rpc.SendRawTransactionAsync(raw));

    private async Task<BigInteger> BaseFeeAsync() => (await Rpc.GetBlockByNumberAsync(BlockTag.Latest))!.BaseFeePerGas!.Value;

    /// <summary>A valid 1-wei transfer at the sender's next nonce, paying twice the current base fee.</summary>
    private async Task<Eip1559Transaction> TransferAsync(EthKey sender)
    {
        var nonce = await Rpc.GetTransactionCountAsync(sender.Address.ToChecksumString(), BlockTag.Pending);
        var tip = new BigInteger(1_000_000_000);
        return new Eip1559Transaction(PrivateAnvilFixture.ChainId, nonce, tip, await BaseFeeAsync() * 2 + tip, 21_000, Recipient, 1, []);
    }
}
