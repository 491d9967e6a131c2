using System.Net.Http;
using GrandPaymaster.Chain.Rpc;
using Polly.CircuitBreaker;

namespace GrandPaymaster.Chain.Tests.Rpc;

public sealed class BroadcastClassifierTests
{
    private const string Label = "test#0";

    [Theory]
    // anvil 1.7.1, provoked for real in AnvilBroadcastTextsTests
    [InlineData(-32003, "Insufficient funds for gas * price + value", BroadcastVerdict.Refused, RefusalKind.InsufficientFunds)]
    [InlineData(-32000, "intrinsic gas too low", BroadcastVerdict.Refused, RefusalKind.IntrinsicGasTooLow)]
    [InlineData(-32000, "intrinsic gas too high -- tx.gas_limit > env.block.gas_limit", BroadcastVerdict.Refused, RefusalKind.GasLimitTooHigh)]
    [InlineData(-32003, "max fee per gas less than block base fee", BroadcastVerdict.Refused, RefusalKind.FeeTooLow)]
    [InlineData(-32003, "invalid chain id for signer", BroadcastVerdict.Refused, RefusalKind.InvalidSignature)]
    [InlineData(-32003, "max priority fee per gas higher than max fee per gas", BroadcastVerdict.Refused, RefusalKind.TipAboveFeeCap)]
    [InlineData(-32602, "Failed to decode transaction", BroadcastVerdict.Refused, RefusalKind.Undecodable)]
    [InlineData(-32003, "nonce too low", BroadcastVerdict.NonceTooLow, RefusalKind.None)]
    [InlineData(-32003, "transaction already imported", BroadcastVerdict.Unknown, RefusalKind.None)]
    [InlineData(-32003, "replacement transaction underpriced", BroadcastVerdict.Unknown, RefusalKind.None)]
    // geth
    [InlineData(-32000, "insufficient funds for gas * price + value: address 0xabc have 0 want 21000", BroadcastVerdict.Refused, RefusalKind.InsufficientFunds)]
    [InlineData(-32000, "transaction underpriced: gas tip cap 1, minimum needed 1000000", BroadcastVerdict.Refused, RefusalKind.FeeTooLow)]
    [InlineData(-32000, "intrinsic gas too low: gas 20000, minimum needed 21000", BroadcastVerdict.Refused, RefusalKind.IntrinsicGasTooLow)]
    [InlineData(-32000, "oversized data: transaction size 131073, limit 131072", BroadcastVerdict.Refused, RefusalKind.TxTooLarge)]
    [InlineData(-32000, "invalid sender", BroadcastVerdict.Refused, RefusalKind.InvalidSignature)]
    [InlineData(-32000, "only replay-protected (EIP-155) transactions allowed over RPC", BroadcastVerdict.Refused, RefusalKind.InvalidSignature)]
    [InlineData(-32000, "exceeds block gas limit", BroadcastVerdict.Refused, RefusalKind.GasLimitTooHigh)]
    [InlineData(-32000, "tx fee (1.20 ether) exceeds the configured cap (1.00 ether)", BroadcastVerdict.Refused, RefusalKind.FeeAboveNodeCap)]
    [InlineData(-32000, "transaction type not supported", BroadcastVerdict.Refused, RefusalKind.Undecodable)]
    [InlineData(-32000, "nonce too low: next nonce 5, tx nonce 3", BroadcastVerdict.NonceTooLow, RefusalKind.None)]
    [InlineData(-32000, "already known", BroadcastVerdict.Unknown, RefusalKind.None)]
    [InlineData(-32000, "replacement transaction underpriced", BroadcastVerdict.Unknown, RefusalKind.None)]
    [InlineData(-32000, "txpool is full", BroadcastVerdict.Unknown, RefusalKind.None)]
    [InlineData(-32000, "nonce too high", BroadcastVerdict.Unknown, RefusalKind.None)]
    // erigon
    [InlineData(-32000, "underpriced", BroadcastVerdict.Refused, RefusalKind.FeeTooLow)]
    [InlineData(-32000, "fee too low", BroadcastVerdict.Refused, RefusalKind.FeeTooLow)]
    [InlineData(-32000, "insufficient funds", BroadcastVerdict.Refused, RefusalKind.InsufficientFunds)]
    [InlineData(-32000, "IntrinsicGas", BroadcastVerdict.Refused, RefusalKind.IntrinsicGasTooLow)]
    [InlineData(-32000, "RLPTooLong", BroadcastVerdict.Refused, RefusalKind.TxTooLarge)]
    [InlineData(-32000, "existing txn with same hash", BroadcastVerdict.Unknown, RefusalKind.None)]
    [InlineData(-32000, "could not replace existing tx", BroadcastVerdict.Unknown, RefusalKind.None)]
    [InlineData(-32000, "queued sub-pool is full", BroadcastVerdict.Unknown, RefusalKind.None)]
    // nethermind
    [InlineData(-32010, "InsufficientFunds, Account balance: 0, cumulative cost: 21000", BroadcastVerdict.Refused, RefusalKind.InsufficientFunds)]
    [InlineData(-32010, "FeeTooLow, MaxFeePerGas too low.", BroadcastVerdict.Refused, RefusalKind.FeeTooLow)]
    [InlineData(-32010, "OldNonce, Current nonce: 3, nonce of rejected tx: 2", BroadcastVerdict.NonceTooLow, RefusalKind.None)]
    [InlineData(-32010, "AlreadyKnown", BroadcastVerdict.Unknown, RefusalKind.None)]
    [InlineData(-32010, "FeeTooLowToCompete", BroadcastVerdict.Unknown, RefusalKind.None)]
    [InlineData(-32010, "GasLimitExceeded", BroadcastVerdict.Refused, RefusalKind.GasLimitTooHigh)]
    // besu
    [InlineData(-32000, "Upfront cost exceeds account balance", BroadcastVerdict.Refused, RefusalKind.InsufficientFunds)]
    [InlineData(-32000, "Known transaction", BroadcastVerdict.Unknown, RefusalKind.None)]
    // anything else
    [InlineData(-32603, "internal error", BroadcastVerdict.Unknown, RefusalKind.None)]
    [InlineData(-32000, "something no node has said yet", BroadcastVerdict.Unknown, RefusalKind.None)]
    public void A_node_answer_is_classified_by_its_text(long code, string message, BroadcastVerdict verdict, RefusalKind kind)
    {
        var outcome = BroadcastClassifier.Classify(new RpcErrorException("eth_sendRawTransaction", Label, code, message, null));

        Assert.Equal(verdict, outcome.Verdict);
        Assert.Equal(kind, outcome.Refusal);
    }

    [Fact]
    public void Texts_are_matched_whatever_their_case()
    {
        var outcome = BroadcastClassifier.Classify(Answer("INSUFFICIENT FUNDS FOR GAS * PRICE + VALUE"));

        Assert.Equal(new BroadcastOutcome(BroadcastVerdict.Refused, RefusalKind.InsufficientFunds, "refused: insufficient funds for gas"), outcome);
    }

    [Fact]
    public void Replacement_underpriced_is_not_mistaken_for_a_fee_below_the_floor()
    {
        Assert.Equal("unknown: replacement underpriced", BroadcastClassifier.Classify(Answer("replacement transaction underpriced")).Reason);
    }

    [Fact]
    public void Unknown_transaction_is_not_read_as_a_known_transaction()
    {
        Assert.Equal("unknown: -32000 unrecognised error", BroadcastClassifier.Classify(Answer("unknown transaction type 0x7f")).Reason);
    }

    [Fact]
    public void Already_known_is_unknown_in_our_own_words()
    {
        Assert.Equal("unknown: already known", BroadcastClassifier.Classify(Answer("transaction already imported")).Reason);
    }

    [Fact]
    public void Success_is_accepted()
    {
        Assert.Equal(BroadcastOutcome.Accepted, BroadcastClassifier.Classify(null));
    }

    [Fact]
    public void Outages_and_garbage_are_unknown_with_a_stable_reason()
    {
        Assert.Equal("unknown: timeout", BroadcastClassifier.Classify(new RpcTimeoutException("m", Label, TimeSpan.FromSeconds(1))).Reason);
        Assert.Equal("unknown: HTTP 503", BroadcastClassifier.Classify(new RpcTransportException("m", Label, "HTTP 503", statusCode: 503)).Reason);
        Assert.Equal("unknown: transport error",
            BroadcastClassifier.Classify(new RpcTransportException("m", Label, "reset", new HttpRequestException("reset"))).Reason);
        Assert.Equal("unknown: malformed answer", BroadcastClassifier.Classify(new RpcMalformedResponseException("m", Label, "not JSON")).Reason);
        Assert.Equal("unknown: -32603 internal error", BroadcastClassifier.Classify(Answer("database closed", -32603)).Reason);
        Assert.Equal("unknown: no endpoint available", BroadcastClassifier.Classify(new NoEndpointAvailableException(1)).Reason);
        Assert.Equal("unknown: endpoint unavailable", BroadcastClassifier.Classify(new BrokenCircuitException()).Reason);
        Assert.Equal("unknown: cancelled", BroadcastClassifier.Classify(new OperationCanceledException()).Reason);
        Assert.Equal("unknown: unexpected error", BroadcastClassifier.Classify(new InvalidOperationException("boom")).Reason);
    }

    [Fact]
    public void A_revert_answer_to_a_broadcast_is_unknown_even_when_its_text_sounds_like_a_refusal()
    {
        var revert = new RpcRevertException("eth_sendRawTransaction", Label, 3, "execution reverted: insufficient funds", null, "insufficient funds");

        Assert.Equal(BroadcastVerdict.Unknown, BroadcastClassifier.Classify(revert).Verdict);
    }

    [Fact]
    public void The_reason_never_carries_the_nodes_own_text()
    {
        const string raw = "upstream https://rpc.example/v3/SECRETKEY said no";

        var outcome = BroadcastClassifier.Classify(Answer(raw));

        Assert.Equal("unknown: -32000 unrecognised error", outcome.Reason);
        Assert.DoesNotContain("SECRETKEY", outcome.Reason);
    }

    private static RpcErrorException Answer(string message, long code = -32000) =>
        new("eth_sendRawTransaction", Label, code, message, null);
}
