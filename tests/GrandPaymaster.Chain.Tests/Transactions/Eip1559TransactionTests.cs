using System.Numerics;
using FsCheck.Xunit;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Chain.Transactions;
using Xunit;

namespace GrandPaymaster.Chain.Tests.Transactions;

public class Eip1559TransactionTests
{
    private static readonly EthKey AnvilKey = EthKey.FromHex("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");

    private static readonly Eip1559Transaction Transfer = new(
        ChainId: 31337,
        Nonce: 3,
        MaxPriorityFeePerGas: 1_500_000_000,
        MaxFeePerGas: 30_000_000_000,
        GasLimit: 21000,
        To: EthAddress.Parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
        Value: 250_000_000_000_000_000L,
        Data: [0xca, 0xfe]);

    [Fact]
    public void Signed_type_2_transaction_recovers_the_key_address_and_its_fields()
    {
        var signed = Transfer.Sign(AnvilKey);
        var decoded = TransactionDecoder.Decode(signed.Raw);

        Assert.Equal(AnvilKey.Address, decoded.Sender);
        var tx = Assert.IsType<Eip1559Transaction>(decoded.Transaction);
        Assert.Equal(Transfer, tx);
        Assert.Equal(Transfer.To, tx.To);
        Assert.Equal(Transfer.Data, tx.Data);
        Assert.Equal(signed.Signature, decoded.Signature);
    }

    // Vectors from ethereumjs's tx test suite (their RLP-string wrapper removed): chain 7822, no data.
    [Theory]
    [InlineData(819, 43203529, 35552, 75853, 121212,
        "0x02f870821e8e8203338301284d8301d97c828ae094000000000000000000000000000000000000aaaa8402933bc980c080a0d067f2167008c59219652f91cbf8788dbca5f771f6e91e2b7657e85b78b472e0a01d305af9fe81fdba43f0dfcd400ed24dcace0a7e30d4e85701dcaaf484cd079e")]
    [InlineData(353, 61901619, 32593, 38850, 136295,
        "0x02f86f821e8e8201618297c283021467827f5194000000000000000000000000000000000000aaaa8403b08b3380c001a004205678f13fc1d7b10feea6513dfa76e24418b6e08097d95c6f93a3b64e536da01d45ad61bfece43862de2cce7d2575a8c1d08c26c87f3cb5f26d7b0be54a91b2")]
    public void Published_type_2_vectors_sign_to_the_expected_raw_bytes(
        int nonce, int value, int gasLimit, int maxPriorityFee, int maxFee, string expectedRaw)
    {
        var key = EthKey.FromHex("0x8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63");
        var tx = new Eip1559Transaction(7822, nonce, maxPriorityFee, maxFee, gasLimit,
            EthAddress.Parse("0x000000000000000000000000000000000000aaaa"), value, []);

        Assert.Equal(expectedRaw, tx.Sign(key).RawHex);
        Assert.Equal(key.Address, TransactionDecoder.RecoverSender(Hex.Decode(expectedRaw)));
    }

    [Fact]
    public void Raw_bytes_are_the_type_byte_then_a_twelve_field_list()
    {
        var raw = Transfer.Sign(AnvilKey).Raw;
        Assert.Equal(0x02, raw[0]);
        var fields = Rlp.Decode(raw.AsSpan(1)).Items;
        Assert.Equal(12, fields.Count);
        Assert.Equal(new BigInteger(31337), fields[0].ToScalar());
        Assert.True(fields[8].IsList);
        Assert.Empty(fields[8].Items);
    }

    [Fact]
    public void Signing_hash_covers_the_type_byte()
    {
        var unsigned = Rlp.Encode(RlpItem.OfList(Rlp.Decode(Transfer.Sign(AnvilKey).Raw.AsSpan(1)).Items.Take(9)));
        Assert.Equal(Keccak256.Hash([0x02, .. unsigned]), Transfer.SigningHash());
        Assert.NotEqual(Keccak256.Hash(unsigned), Transfer.SigningHash());
    }

    [Fact]
    public void Changing_any_signed_field_changes_the_recovered_sender()
    {
        var raw = Transfer.Sign(AnvilKey).Raw;
        var fields = Rlp.Decode(raw.AsSpan(1)).Items.ToList();
        fields[1] = RlpItem.OfScalar(4); // nonce
        var tampered = (byte[])[0x02, .. Rlp.Encode(RlpItem.OfList(fields))];
        Assert.NotEqual(AnvilKey.Address, TransactionDecoder.RecoverSender(tampered));
    }

    [Theory]
    [InlineData("0x", "empty")]
    [InlineData("0x01c0", "type 0x01")]
    [InlineData("0x02c0", "12 fields")]
    [InlineData("0xc0", "9 fields")]
    public void Malformed_raw_transactions_are_rejected(string hex, string expected) =>
        Assert.Contains(expected, Assert.Throws<FormatException>(() => TransactionDecoder.Decode(Hex.Decode(hex))).Message);

    [Fact]
    public void Non_empty_access_lists_are_rejected_clearly()
    {
        var fields = Rlp.Decode(Transfer.Sign(AnvilKey).Raw.AsSpan(1)).Items.ToList();
        fields[8] = RlpItem.OfList(RlpItem.OfList(RlpItem.OfBytes(new byte[20]), RlpItem.OfList()));
        var raw = (byte[])[0x02, .. Rlp.Encode(RlpItem.OfList(fields))];
        Assert.Contains("access list", Assert.Throws<FormatException>(() => TransactionDecoder.Decode(raw)).Message);
    }

    [Property(Arbitrary = [typeof(Generators)], MaxTest = 50)]
    public bool Random_type_2_transactions_recover_their_signer(EthKey key, Eip1559Transaction tx)
    {
        var decoded = TransactionDecoder.Decode(tx.Sign(key).Raw);
        return decoded.Sender == key.Address && tx.Equals(decoded.Transaction);
    }
}
