using System.Numerics;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Chain.Transactions;
using Xunit;

namespace GrandPaymaster.Chain.Tests.Transactions;

public class LegacyTransactionTests
{
    private static readonly BigInteger Gwei = BigInteger.Pow(10, 9);
    private static readonly BigInteger Ether = BigInteger.Pow(10, 18);

    // The worked example in EIP-155 itself.
    private static readonly EthKey Eip155Key = EthKey.FromBytes(Enumerable.Repeat((byte)0x46, 32).ToArray());
    private static readonly LegacyTransaction Eip155Example = new(
        Nonce: 9,
        GasPrice: 20 * Gwei,
        GasLimit: 21000,
        To: EthAddress.Parse("0x3535353535353535353535353535353535353535"),
        Value: Ether,
        Data: [],
        ChainId: 1);

    private const string Eip155Raw =
        "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83";

    [Fact]
    public void Eip155_example_has_the_published_signing_hash() =>
        Assert.Equal("0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53", Hex.Encode(Eip155Example.SigningHash()));

    [Fact]
    public void Eip155_example_signs_to_the_published_raw_transaction()
    {
        var signed = Eip155Example.Sign(Eip155Key);
        Assert.Equal(Eip155Raw, signed.RawHex);
        Assert.Equal(Hex.Encode(Keccak256.Hash(signed.Raw)), signed.TxHashHex);
    }

    [Fact]
    public void Eip155_example_decodes_to_its_fields_and_sender()
    {
        var decoded = TransactionDecoder.Decode(Hex.Decode(Eip155Raw));
        Assert.Equal(Eip155Example, decoded.Transaction);
        Assert.Equal(Eip155Key.Address, decoded.Sender);
        Assert.Equal(Eip155Key.Address, TransactionDecoder.RecoverSender(Hex.Decode(Eip155Raw)));
        Assert.Equal(0, decoded.Signature.RecoveryId); // v = 37 = 0 + 1 * 2 + 35
    }

    [Fact]
    public void Contract_creation_on_a_large_chain_id_round_trips()
    {
        var key = EthKey.Generate(new Random(7));
        var tx = new LegacyTransaction(0, Gwei, 1_000_000, null, 0, [0x60, 0x80, 0x60, 0x40], ChainId: 11155111);
        var decoded = TransactionDecoder.Decode(tx.Sign(key).Raw);
        Assert.Equal(tx, decoded.Transaction);
        Assert.Equal(key.Address, decoded.Sender);
    }

    [Fact]
    public void Pre_eip155_signatures_are_refused()
    {
        // The same fields re-signed without a chain id carry v = 27 or 28.
        var body = Rlp.Decode(Hex.Decode(Eip155Raw)).Items.ToList();
        body[6] = RlpItem.OfScalar(27);
        var raw = Rlp.Encode(RlpItem.OfList(body));
        Assert.Contains("EIP-155", Assert.Throws<FormatException>(() => TransactionDecoder.Decode(raw)).Message);
    }

    [Fact]
    public void High_s_twins_of_valid_signatures_are_refused()
    {
        var body = Rlp.Decode(Hex.Decode(Eip155Raw)).Items.ToList();
        body[8] = RlpItem.OfScalar(EthKey.CurveOrder - body[8].ToScalar());
        var raw = Rlp.Encode(RlpItem.OfList(body));
        Assert.Contains("high s", Assert.Throws<FormatException>(() => TransactionDecoder.Decode(raw)).Message);
    }

    [Fact]
    public void Negative_or_oversized_fields_cannot_be_signed()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => (Eip155Example with { Value = -1 }).Sign(Eip155Key));
        Assert.Throws<ArgumentOutOfRangeException>(() => (Eip155Example with { Value = BigInteger.Pow(2, 256) }).Sign(Eip155Key));
    }
}
