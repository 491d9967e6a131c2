using System.Net.Http;
using System.Text.RegularExpressions;
using Polly.CircuitBreaker;

namespace GrandPaymaster.Chain.Rpc;

/// <summary>The three outcomes of a broadcast (DESIGN §3), plus the nonce case the caller must settle against the chain.</summary>
public enum BroadcastVerdict
{
    /// <summary>A node took the transaction (or already had it).</summary>
    Accepted,

    /// <summary>A node answered in a way that proves it will never mine this transaction.</summary>
    Refused,

    /// <summary>
    /// The node says the nonce is used. That is a refusal only if the chain shows another transaction at that
    /// nonce; it is also what a node says once our own transaction was mined, so the caller checks first.
    /// </summary>
    NonceTooLow,

    /// <summary>Anything else: it may or may not be in a mempool. Watch and rebroadcast; never release.</summary>
    Unknown,
}

/// <summary>Why a node refused a transaction, when <see cref="BroadcastVerdict.Refused"/>.</summary>
public enum RefusalKind
{
    None,

    /// <summary>The sender cannot pay <c>gasLimit × maxFee + value</c>.</summary>
    InsufficientFunds,

    /// <summary>The fee is below the node's floor: its minimum tip, or (on nodes that refuse outright, as anvil does) the base fee.</summary>
    FeeTooLow,

    /// <summary>The gas limit is below the intrinsic cost of the transaction.</summary>
    IntrinsicGasTooLow,

    /// <summary>The transaction is bigger than the node's mempool accepts.</summary>
    TxTooLarge,

    /// <summary>The signature or its chain id does not verify for this chain.</summary>
    InvalidSignature,

    /// <summary>The gas limit is above the block gas limit.</summary>
    GasLimitTooHigh,

    /// <summary>The priority fee is above the max fee: the transaction is invalid.</summary>
    TipAboveFeeCap,

    /// <summary>The total fee is above the cap this node accepts over RPC (geth's <c>--rpc.txfeecap</c>).</summary>
    FeeAboveNodeCap,

    /// <summary>The node cannot decode the bytes, or does not support this transaction type.</summary>
    Undecodable,
}

/// <summary>
/// A classified broadcast. <see cref="Reason"/> is a short, stable text in our own words
/// (<c>"refused: insufficient funds for gas"</c>, <c>"unknown: timeout"</c>): safe to log, persist and show,
/// unlike the node's raw message, which can echo anything.
/// </summary>
public sealed record BroadcastOutcome(BroadcastVerdict Verdict, RefusalKind Refusal, string Reason)
{
    public static readonly BroadcastOutcome Accepted = new(BroadcastVerdict.Accepted, RefusalKind.None, "accepted");

    internal static BroadcastOutcome Unknown(string what) => new(BroadcastVerdict.Unknown, RefusalKind.None, "unknown: " + what);
}

/// <summary>
/// Turns what one <c>eth_sendRawTransaction</c> attempt ended with into a <see cref="BroadcastOutcome"/>.
/// Pure: texts of geth, anvil, erigon and nethermind are matched case-insensitively. Only an answer that
/// proves the node will never mine the transaction is <see cref="BroadcastVerdict.Refused"/>; whatever is
/// not recognised is <see cref="BroadcastVerdict.Unknown"/>, because releasing a hold for a transaction that
/// is mined later loses money while watching one that never is costs nothing.
/// </summary>
public static class BroadcastClassifier
{
    private const string AlreadyKnownWhat = "already known";

    /// <summary>
    /// First match wins, so the specific texts come before the general ones they contain
    /// (<c>replacement transaction underpriced</c> before <c>transaction underpriced</c>,
    /// <c>intrinsic gas too high</c> before anything about intrinsic gas).
    /// </summary>
    private static readonly Rule[] Rules =
    [
        // The node has it already: it is in a mempool (or mined), so it is not refused.
        Unknown(AlreadyKnownWhat, "already known", "alreadyknown", "known transaction", "transaction already imported",
            "existing tx with same hash", "existing txn with same hash", "already in mempool"),
        // The node keeps the transaction it has at this nonce; ours is not refused for ever (it may be mined if that one is dropped).
        Unknown("replacement underpriced", "replacement transaction underpriced", "replace underpriced", "could not replace existing tx",
            "replacement fee too low"),
        Unknown("pool full", "txpool is full", "sub-pool is full", "feetoolowtocompete", "transaction pool is full"),
        new(BroadcastVerdict.NonceTooLow, RefusalKind.None, "nonce too low", ["nonce too low", "oldnonce", "nonce is too low"]),
        // anvil says "intrinsic gas too high -- tx.gas_limit > env.block.gas_limit": before anything about intrinsic gas.
        Refused(RefusalKind.GasLimitTooHigh, "gas limit above the block gas limit",
            "intrinsic gas too high", "exceeds block gas limit", "gaslimitexceeded", "gas_limit > env.block.gas_limit"),
        Refused(RefusalKind.IntrinsicGasTooLow, "intrinsic gas too low",
            "intrinsic gas too low", "intrinsicgas", "intrinsic gas exceeds gas limit"),
        Refused(RefusalKind.InsufficientFunds, "insufficient funds for gas",
            "insufficient funds", "insufficientfunds", "upfront cost exceeds account balance"),
        Refused(RefusalKind.TipAboveFeeCap, "max priority fee above max fee",
            "max priority fee per gas higher than max fee per gas", "tip higher than fee cap", "fee cap less than tip",
            "maxpriorityfeepergas higher than maxfeepergas"),
        Refused(RefusalKind.FeeAboveNodeCap, "fee above the node's cap", "exceeds the configured cap"),
        // "transaction underpriced" is the node's minimum tip; "max fee per gas less than block base fee" comes back from a
        // send only on nodes that refuse such a transaction outright instead of parking it (anvil does; geth's pool parks it).
        Refused(RefusalKind.FeeTooLow, "fee below the node's floor",
            "transaction underpriced", "underpriced", "feetoolow", "fee too low", "max fee per gas less than block base fee",
            "fee cap less than block base fee", "gas price below configured minimum", "gas price below minimum"),
        Refused(RefusalKind.TxTooLarge, "transaction too large",
            "oversized data", "maxtxsizeexceeded", "rlptoolong", "initcode too large", "transaction size exceeds"),
        Refused(RefusalKind.InvalidSignature, "invalid signature or chain id",
            "invalid chain id", "invalid sender", "invalid signature", "only replay-protected", "incorrect chain id", "wrong chain id"),
        Refused(RefusalKind.Undecodable, "undecodable transaction",
            "failed to decode transaction", "typed transaction too short", "transaction type not supported", "unsupported transaction type",
            "notsupportedtxtype", "rlp: "),
    ];

    /// <summary>Classifies what one broadcast attempt ended with: null is success.</summary>
    public static BroadcastOutcome Classify(Exception? error) => error switch
    {
        null => BroadcastOutcome.Accepted,
        NoEndpointAvailableException => BroadcastOutcome.Unknown("no endpoint available"),
        RpcTimeoutException => BroadcastOutcome.Unknown("timeout"),
        RpcTransportException { StatusCode: { } status } => BroadcastOutcome.Unknown($"HTTP {status}"),
        RpcTransportException => BroadcastOutcome.Unknown("transport error"),
        RpcMalformedResponseException => BroadcastOutcome.Unknown("malformed answer"),
        // A broadcast executes nothing, so a "revert" here is some node's oddity, not a verdict on the transaction.
        RpcRevertException e => BroadcastOutcome.Unknown($"{e.Code} revert"),
        RpcErrorException e => ClassifyAnswer(e),
        BrokenCircuitException => BroadcastOutcome.Unknown("endpoint unavailable"),
        OperationCanceledException => BroadcastOutcome.Unknown("cancelled"),
        _ => BroadcastOutcome.Unknown("unexpected error"),
    };

    /// <summary>The node answered that it already has this transaction.</summary>
    internal static bool IsAlreadyKnown(Exception error) =>
        error is RpcErrorException and not RpcRevertException && Match((RpcErrorException)error)?.What == AlreadyKnownWhat;

    /// <summary>
    /// Whether the request can have reached a node and been taken: false only when we know it was never sent
    /// (the connection was refused, the name did not resolve, the breaker let nothing through).
    /// </summary>
    internal static bool MayHaveBeenDelivered(Exception error) => error switch
    {
        BrokenCircuitException or NoEndpointAvailableException => false,
        RpcTransportException { InnerException: HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } } => false,
        _ => true,
    };

    private static BroadcastOutcome ClassifyAnswer(RpcErrorException error) =>
        Match(error)?.Outcome ?? BroadcastOutcome.Unknown(error.Code == -32603 ? "-32603 internal error" : $"{error.Code} unrecognised error");

    private static Rule? Match(RpcErrorException error)
    {
        var text = error.ErrorData is null ? error.RpcMessage : error.RpcMessage + " " + error.ErrorData;
        return Rules.FirstOrDefault(rule => rule.Pattern.IsMatch(text));
    }

    private static Rule Unknown(string what, params string[] patterns) =>
        new(BroadcastVerdict.Unknown, RefusalKind.None, what, patterns);

    private static Rule Refused(RefusalKind kind, string what, params string[] patterns) =>
        new(BroadcastVerdict.Refused, kind, what, patterns);

    private sealed record Rule(BroadcastVerdict Verdict, RefusalKind Kind, string What, string[] Patterns)
    {
        /// <summary>
        /// Any of the phrases, case-insensitive, not inside a longer word: "known transaction" must not match
        /// "unknown transaction type", which would turn a refusal into "already known".
        /// </summary>
        public Regex Pattern { get; } = new(
            string.Join('|', Patterns.Select(p => $"(?<![a-z]){Regex.Escape(p)}(?![a-z])")),
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

        public BroadcastOutcome Outcome { get; } = new(Verdict, Kind, Verdict switch
        {
            BroadcastVerdict.Refused => "refused: " + What,
            BroadcastVerdict.NonceTooLow => What,
            _ => "unknown: " + What,
        });
    }
}
