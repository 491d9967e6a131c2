using System.Numerics;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Chain.Rpc;
using Nethereum.ABI.FunctionEncoding;
using Nethereum.ABI.FunctionEncoding.Attributes;

namespace GrandPaymaster.Chain.Forwarding;

/// <summary>Why the forwarder refuses a request, decoded from its revert data.</summary>
public enum ForwarderRefusal
{
    /// <summary>The recovered signer is not <c>from</c>: a bad signature, or a nonce that is not the user's current one.</summary>
    InvalidSigner,

    /// <summary>The request's deadline has passed.</summary>
    Expired,

    /// <summary>The target does not trust this forwarder (<c>isTrustedForwarder</c> is false).</summary>
    UntrustedTarget,

    /// <summary>The forwarded call itself reverts (the forwarder's <c>execute</c> then reverts with <c>FailedCall</c>).</summary>
    CallReverts,

    /// <summary>Any other revert (a value mismatch, out of gas, …).</summary>
    Other,
}

/// <summary>One <c>ExecutedForwardRequest(signer, nonce, success)</c> event, with the contract that emitted it.</summary>
public sealed record ExecutedForwardRequest(EthAddress Forwarder, EthAddress Signer, BigInteger Nonce, bool Success);

/// <summary>
/// The ABI of OpenZeppelin v5's <c>ERC2771Forwarder</c> and of its recipients, encoded and decoded by Nethereum.ABI
/// (off the hot path, DESIGN.md §6): <c>execute(request)</c>, <c>nonces(owner)</c>, <c>isTrustedForwarder(forwarder)</c>,
/// the forwarder's custom errors and its <c>ExecutedForwardRequest</c> event.
/// </summary>
public static class ForwarderAbi
{
    /// <summary>Gas the forwarder spends around the forwarded call: signature recovery, typed-data hashing, the nonce write, the trust check, the event.</summary>
    public const int ForwarderOverheadGas = 50_000;

    private static readonly string ExecuteSelector = Selector("execute((address,address,uint256,uint256,uint48,bytes,bytes))");
    private static readonly string NoncesSelector = Selector("nonces(address)");
    private static readonly string IsTrustedForwarderSelector = Selector("isTrustedForwarder(address)");
    private static readonly string InvalidSignerError = Selector("ERC2771ForwarderInvalidSigner(address,address)");
    private static readonly string ExpiredError = Selector("ERC2771ForwarderExpiredRequest(uint48)");
    private static readonly string UntrustfulTargetError = Selector("ERC2771UntrustfulTarget(address,address)");
    private static readonly string FailedCallError = Selector("FailedCall()");
    private static readonly string ExecutedTopic = Hex.Encode(Keccak256.Hash(System.Text.Encoding.ASCII.GetBytes("ExecutedForwardRequest(address,uint256,bool)")));

    /// <summary>Calldata of <c>forwarder.execute(request)</c>: the request without its nonce (the forwarder reads it), plus the user's signature.</summary>
    public static byte[] Execute(ForwardRequest request, ReadOnlySpan<byte> signature)
    {
        if (request.Deadline > ForwardRequest.MaxDeadline) throw new ArgumentOutOfRangeException(nameof(request), "a deadline is a uint48");
        var call = new ExecuteFunction
        {
            Request = new ForwardRequestData
            {
                From = request.From.ToChecksumString(),
                To = request.To.ToChecksumString(),
                Value = request.Value,
                Gas = request.Gas,
                Deadline = request.Deadline,
                Data = request.Data,
                Signature = signature.ToArray(),
            },
        };
        return Hex.Decode(new FunctionCallEncoder().EncodeRequest(call, ExecuteSelector));
    }

    /// <summary>Calldata of <c>forwarder.nonces(owner)</c>.</summary>
    public static byte[] Nonces(EthAddress owner) => Hex.Decode(new FunctionCallEncoder().EncodeRequest(new AddressArgument { Value = owner.ToChecksumString() }, NoncesSelector));

    /// <summary>Calldata of <c>target.isTrustedForwarder(forwarder)</c>.</summary>
    public static byte[] IsTrustedForwarder(EthAddress forwarder) =>
        Hex.Decode(new FunctionCallEncoder().EncodeRequest(new AddressArgument { Value = forwarder.ToChecksumString() }, IsTrustedForwarderSelector));

    /// <summary>A <c>uint256</c> return value (a nonce).</summary>
    public static BigInteger DecodeUint(byte[] output)
    {
        if (output.Length != 32) throw new FormatException($"Expected one 32-byte word, got {output.Length} bytes.");
        return new BigInteger(output, isUnsigned: true, isBigEndian: true);
    }

    /// <summary>A <c>bool</c> return value; anything but one well-formed word (a contract without the function returns nothing) is false.</summary>
    public static bool DecodeBool(byte[] output) => output.Length == 32 && output[31] == 1 && output.AsSpan(0, 31).IndexOfAnyExcept((byte)0) < 0;

    /// <summary>Why <c>execute</c> reverts, from the revert data a node returned with the error (null or unknown data: <see cref="ForwarderRefusal.Other"/>).</summary>
    public static ForwarderRefusal Refusal(string? revertData)
    {
        if (revertData is null || revertData.Length < 10 || !revertData.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) return ForwarderRefusal.Other;
        var selector = revertData[..10].ToLowerInvariant();
        if (selector == InvalidSignerError) return ForwarderRefusal.InvalidSigner;
        if (selector == ExpiredError) return ForwarderRefusal.Expired;
        if (selector == UntrustfulTargetError) return ForwarderRefusal.UntrustedTarget;
        return selector == FailedCallError ? ForwarderRefusal.CallReverts : ForwarderRefusal.Other;
    }

    /// <summary>The forwarder's <c>ExecutedForwardRequest</c> events among a receipt's logs; logs of other shapes are skipped.</summary>
    public static IReadOnlyList<ExecutedForwardRequest> Executed(IEnumerable<ReceiptLog> logs)
    {
        var found = new List<ExecutedForwardRequest>();
        foreach (var log in logs)
        {
            if (log.Topics.Count != 2 || !string.Equals(log.Topics[0], ExecutedTopic, StringComparison.OrdinalIgnoreCase)) continue;
            if (!EthAddress.TryParse(log.Address, out var emitter)) continue;
            try
            {
                var decoded = new EventTopicDecoder().DecodeTopics<ExecutedEvent>(log.Topics.Cast<object>().ToArray(), log.Data);
                if (EthAddress.TryParse(decoded.Signer, out var signer)) found.Add(new ExecutedForwardRequest(emitter, signer, decoded.Nonce, decoded.Success));
            }
            catch (Exception e) when (e is FormatException or ArgumentException or IndexOutOfRangeException or InvalidOperationException)
            {
                // Not the forwarder's event after all (another contract with the same topic and a different layout).
            }
        }

        return found;
    }

    /// <summary>
    /// The gas limit of the transaction that calls <c>execute</c> for a request of <paramref name="innerGas"/>: intrinsic gas,
    /// the calldata, the forwarder's own work, and 64/63 of the inner gas (EIP-150 keeps back 1/64 at a call, and the
    /// forwarder reverts when the call did not get all of <c>gas</c>). What the transaction does not use is refunded.
    /// </summary>
    public static BigInteger OuterGasLimit(BigInteger innerGas, int innerDataLength)
    {
        // execute(tuple): selector, tuple offset, 7 head words, data and signature with their lengths, padded to words.
        var calldataBytes = 4 + 32 + 7 * 32 + 32 + Padded(innerDataLength) + 32 + Padded(65);
        return 21_000 + 16 * calldataBytes + ForwarderOverheadGas + (innerGas * 64 + 62) / 63;
    }

    private static int Padded(int length) => (length + 31) / 32 * 32;

    private static string Selector(string signature) => Hex.Encode(Keccak256.Hash(System.Text.Encoding.ASCII.GetBytes(signature)).AsSpan(0, 4).ToArray());

    private sealed class ForwardRequestData
    {
        [Parameter("address", "from", 1)] public string From { get; set; } = "";
        [Parameter("address", "to", 2)] public string To { get; set; } = "";
        [Parameter("uint256", "value", 3)] public BigInteger Value { get; set; }
        [Parameter("uint256", "gas", 4)] public BigInteger Gas { get; set; }
        [Parameter("uint48", "deadline", 5)] public ulong Deadline { get; set; }
        [Parameter("bytes", "data", 6)] public byte[] Data { get; set; } = [];
        [Parameter("bytes", "signature", 7)] public byte[] Signature { get; set; } = [];
    }

    [Function("execute")]
    private sealed class ExecuteFunction
    {
        [Parameter("tuple", "request", 1)] public ForwardRequestData Request { get; set; } = new();
    }

    [Function("addressArgument")]
    private sealed class AddressArgument
    {
        [Parameter("address", "owner", 1)] public string Value { get; set; } = "";
    }

    [Event("ExecutedForwardRequest")]
    private sealed class ExecutedEvent : IEventDTO
    {
        [Parameter("address", "signer", 1, true)] public string Signer { get; set; } = "";
        [Parameter("uint256", "nonce", 2, false)] public BigInteger Nonce { get; set; }
        [Parameter("bool", "success", 3, false)] public bool Success { get; set; }
    }
}
