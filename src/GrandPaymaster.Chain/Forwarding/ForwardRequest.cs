using System.Globalization;
using System.Numerics;
using System.Text.Json;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Encoding;
using Nethereum.Signer.EIP712;

namespace GrandPaymaster.Chain.Forwarding;

/// <summary>The EIP-712 domain of the paymaster's forwarder on one chain (OpenZeppelin <c>ERC2771Forwarder</c>, version "1").</summary>
public sealed record ForwarderDomain(string Name, string Version, long ChainId, EthAddress VerifyingContract)
{
    public const string ForwarderName = "GrandPaymasterForwarder";

    public static ForwarderDomain For(long chainId, EthAddress forwarder) => new(ForwarderName, "1", chainId, forwarder);
}

/// <summary>
/// What a user signs for a sponsored call (OpenZeppelin v5's <c>ForwardRequest</c>): the forwarder checks the signature,
/// the user's nonce and the deadline, then calls <see cref="To"/> with <see cref="From"/> appended. The typed data is
/// encoded by Nethereum (off the hot path); the digest is what the user's key signs and what recovery checks.
/// </summary>
public sealed record ForwardRequest(EthAddress From, EthAddress To, BigInteger Value, BigInteger Gas, BigInteger Nonce, ulong Deadline, byte[] Data)
{
    /// <summary>Largest <c>uint48</c> deadline.</summary>
    public const ulong MaxDeadline = (1UL << 48) - 1;

    /// <summary>The request as <c>eth_signTypedData_v4</c> JSON: what a wallet is asked to sign.</summary>
    public string TypedDataJson(ForwarderDomain domain)
    {
        if (Deadline > MaxDeadline) throw new ArgumentOutOfRangeException(nameof(Deadline), Deadline, "a deadline is a uint48");
        if (Value.Sign < 0 || Gas.Sign < 0 || Nonce.Sign < 0) throw new ArgumentOutOfRangeException(nameof(Value), "value, gas and nonce are unsigned");
        var typedData = new
        {
            types = new Dictionary<string, object[]>
            {
                ["EIP712Domain"] =
                [
                    new { name = "name", type = "string" }, new { name = "version", type = "string" },
                    new { name = "chainId", type = "uint256" }, new { name = "verifyingContract", type = "address" },
                ],
                ["ForwardRequest"] =
                [
                    new { name = "from", type = "address" }, new { name = "to", type = "address" }, new { name = "value", type = "uint256" },
                    new { name = "gas", type = "uint256" }, new { name = "nonce", type = "uint256" }, new { name = "deadline", type = "uint48" },
                    new { name = "data", type = "bytes" },
                ],
            },
            primaryType = "ForwardRequest",
            domain = new { name = domain.Name, version = domain.Version, chainId = domain.ChainId, verifyingContract = domain.VerifyingContract.ToChecksumString() },
            message = new
            {
                from = From.ToChecksumString(),
                to = To.ToChecksumString(),
                value = Value.ToString(CultureInfo.InvariantCulture),
                gas = Gas.ToString(CultureInfo.InvariantCulture),
                nonce = Nonce.ToString(CultureInfo.InvariantCulture),
                deadline = Deadline.ToString(CultureInfo.InvariantCulture),
                data = Hex.Encode(Data),
            },
        };
        return JsonSerializer.Serialize(typedData);
    }

    /// <summary>keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(request)): the hash the user's key signs.</summary>
    public byte[] Digest(ForwarderDomain domain) => Keccak256.Hash(new Eip712TypedDataSigner().EncodeTypedData(TypedDataJson(domain)));

    /// <summary>Who signed this request (65-byte r ‖ s ‖ v signature, v 27/28 or 0/1), by the project's own recovery.</summary>
    public EthAddress Signer(ForwarderDomain domain, ReadOnlySpan<byte> signature) => EthKey.Recover(Digest(domain), EcdsaSignature.FromRsv(signature));
}
