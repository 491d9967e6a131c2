using System.Globalization;
using System.Numerics;
using System.Text.Json;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Chain.Forwarding;
using GrandPaymaster.Chain.Tests.Contracts;

namespace GrandPaymaster.Chain.Tests.Forwarding;

/// <summary>
/// ForwardRequest typed data against vectors made by ethers (Vectors/eip712/generate.js), an independent implementation:
/// the digest (Nethereum's encoding, our Keccak), the signer our own recovery finds, and our own signature of the digest.
/// </summary>
public sealed class ForwardRequestTests
{
    public static TheoryData<int> Cases => new(Enumerable.Range(0, Vectors().GetArrayLength()));

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_digest_matches_ethers_and_its_signature_recovers_the_signer(int index)
    {
        var vector = Vectors()[index];
        var (request, domain) = Read(vector);

        Assert.Equal(vector.GetProperty("digest").GetString(), Hex.Encode(request.Digest(domain)));
        Assert.Equal(EthAddress.Parse(vector.GetProperty("signer").GetString()!), request.Signer(domain, Hex.Decode(vector.GetProperty("signature").GetString()!)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Our_signer_signs_the_digest_exactly_as_ethers_does(int index)
    {
        var vector = Vectors()[index];
        var (request, domain) = Read(vector);
        var key = EthKey.FromHex(vector.GetProperty("privateKey").GetString()!);

        var signature = key.Sign(request.Digest(domain));

        Assert.Equal(vector.GetProperty("signature").GetString(), Hex.Encode(TestAbi.Signature(signature)));
        Assert.Equal(vector.GetProperty("signature").GetString(), Hex.Encode(signature.ToRsv()));
        Assert.Equal(signature, EcdsaSignature.FromRsv(signature.ToRsv()));
    }

    [Fact]
    public void A_signature_over_another_request_recovers_someone_else()
    {
        var vector = Vectors()[0];
        var (request, domain) = Read(vector);
        var signature = Hex.Decode(vector.GetProperty("signature").GetString()!);

        Assert.NotEqual(request.From, (request with { Nonce = request.Nonce + 1 }).Signer(domain, signature));
        Assert.NotEqual(request.From, request.Signer(domain with { ChainId = domain.ChainId + 1 }, signature));
    }

    [Fact]
    public void A_deadline_beyond_uint48_is_refused()
    {
        var (request, domain) = Read(Vectors()[0]);

        Assert.Throws<ArgumentOutOfRangeException>(() => (request with { Deadline = ForwardRequest.MaxDeadline + 1 }).Digest(domain));
    }

    private static (ForwardRequest Request, ForwarderDomain Domain) Read(JsonElement vector)
    {
        var d = vector.GetProperty("domain");
        var m = vector.GetProperty("message");
        var domain = new ForwarderDomain(d.GetProperty("name").GetString()!, d.GetProperty("version").GetString()!,
            long.Parse(d.GetProperty("chainId").GetString()!, CultureInfo.InvariantCulture), EthAddress.Parse(d.GetProperty("verifyingContract").GetString()!));
        BigInteger Big(string name) => BigInteger.Parse(m.GetProperty(name).GetString()!, CultureInfo.InvariantCulture);
        var request = new ForwardRequest(EthAddress.Parse(m.GetProperty("from").GetString()!), EthAddress.Parse(m.GetProperty("to").GetString()!),
            Big("value"), Big("gas"), Big("nonce"), ulong.Parse(m.GetProperty("deadline").GetString()!, CultureInfo.InvariantCulture),
            Hex.Decode(m.GetProperty("data").GetString()!));
        return (request, domain);
    }

    private static JsonElement Vectors() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Vectors", "eip712", "forward-requests.json"))).RootElement.GetProperty("vectors");
}
