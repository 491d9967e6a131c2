using System.Numerics;
using GrandPaymaster.Chain.Encoding;

namespace GrandPaymaster.Chain.Rpc;

/// <summary>A block parameter: a tag (<c>latest</c>, <c>pending</c>, …) or a number.</summary>
public readonly record struct BlockTag(string Value)
{
    public static readonly BlockTag Latest = new("latest");
    public static readonly BlockTag Pending = new("pending");
    public static readonly BlockTag Earliest = new("earliest");
    public static readonly BlockTag Safe = new("safe");
    public static readonly BlockTag Finalized = new("finalized");

    public static BlockTag Number(BigInteger number) => new(Hex.FormatQuantity(number));

    public override string ToString() => Value;
}

/// <summary>The call object of <c>eth_call</c> and <c>eth_estimateGas</c>.</summary>
public sealed record CallRequest(string? To, byte[]? Data = null, string? From = null, BigInteger? Value = null, BigInteger? Gas = null)
{
    internal Dictionary<string, string> ToJson()
    {
        var json = new Dictionary<string, string>();
        if (From is not null) json["from"] = From;
        if (To is not null) json["to"] = To;
        if (Data is not null) json["data"] = Hex.Encode(Data);
        if (Value is { } value) json["value"] = Hex.FormatQuantity(value);
        if (Gas is { } gas) json["gas"] = Hex.FormatQuantity(gas);
        return json;
    }
}

/// <summary>What <c>eth_getTransactionReceipt</c> reports once a transaction is mined.</summary>
public sealed record TransactionReceipt(
    string TransactionHash,
    BigInteger BlockNumber,
    string BlockHash,
    string From,
    string? To,
    string? ContractAddress,
    BigInteger GasUsed,
    BigInteger EffectiveGasPrice,
    BigInteger CumulativeGasUsed,
    bool Succeeded,
    int Type,
    IReadOnlyList<ReceiptLog>? Logs = null)
{
    /// <summary>What the sender paid in wei for this transaction.</summary>
    public BigInteger Cost => GasUsed * EffectiveGasPrice;
}

/// <summary>An event a mined transaction emitted: the emitting contract, its topics and data (hex).</summary>
public sealed record ReceiptLog(string Address, IReadOnlyList<string> Topics, string Data);

/// <summary>The header fields of a block we use, plus its transaction hashes.</summary>
public sealed record BlockHeader(
    BigInteger Number,
    string Hash,
    DateTimeOffset Timestamp,
    BigInteger GasLimit,
    BigInteger GasUsed,
    BigInteger? BaseFeePerGas,
    IReadOnlyList<string> TransactionHashes);

/// <summary>The answer of <c>eth_feeHistory</c>.</summary>
public sealed record FeeHistory(
    BigInteger OldestBlock,
    IReadOnlyList<BigInteger> BaseFeePerGas,
    IReadOnlyList<double> GasUsedRatio,
    IReadOnlyList<IReadOnlyList<BigInteger>> Reward);

/// <summary>The answer of <c>txpool_status</c>: how many transactions wait in the node's mempool.</summary>
public sealed record TxPoolStatus(BigInteger Pending, BigInteger Queued);
