using System.Numerics;
using FsCheck.Xunit;
using GrandPaymaster.Chain.Encoding;
using Xunit;

namespace GrandPaymaster.Chain.Tests.Encoding;

public class RlpTests
{
    private static RlpItem Text(string s) => RlpItem.OfBytes(System.Text.Encoding.ASCII.GetBytes(s));

    private static readonly RlpItem SetTheoreticThree = RlpItem.OfList(
        RlpItem.OfList(),
        RlpItem.OfList(RlpItem.OfList()),
        RlpItem.OfList(RlpItem.OfList(), RlpItem.OfList(RlpItem.OfList())));

    public static TheoryData<string, RlpItem, string> WikiVectors => new()
    {
        { "the string dog", Text("dog"), "0x83646f67" },
        { "the list [cat, dog]", RlpItem.OfList(Text("cat"), Text("dog")), "0xc88363617483646f67" },
        { "the empty string", Text(""), "0x80" },
        { "the empty list", RlpItem.OfList(), "0xc0" },
        { "the integer 0", RlpItem.OfScalar(0), "0x80" },
        { "the byte 0x00", RlpItem.OfBytes([0x00]), "0x00" },
        { "the byte 0x0f", RlpItem.OfBytes([0x0f]), "0x0f" },
        { "the integer 15", RlpItem.OfScalar(15), "0x0f" },
        { "the integer 1024", RlpItem.OfScalar(1024), "0x820400" },
        { "the set-theoretic three", SetTheoreticThree, "0xc7c0c1c0c3c0c1c0" },
        {
            "a 56-byte string",
            Text("Lorem ipsum dolor sit amet, consectetur adipisicing elit"),
            "0xb838" + Convert.ToHexStringLower("Lorem ipsum dolor sit amet, consectetur adipisicing elit"u8)
        },
    };

    [Theory]
    [MemberData(nameof(WikiVectors))]
    public void Wiki_vectors_encode_to_the_published_bytes(string name, RlpItem item, string expected)
    {
        Assert.NotEmpty(name);
        Assert.Equal(expected, Hex.Encode(Rlp.Encode(item)));
    }

    [Theory]
    [MemberData(nameof(WikiVectors))]
    public void Wiki_vectors_decode_and_re_encode_unchanged(string name, RlpItem item, string expected)
    {
        Assert.NotEmpty(name);
        var decoded = Rlp.Decode(Hex.Decode(expected));
        Assert.Equal(item.ToString(), decoded.ToString());
        Assert.Equal(expected, Hex.Encode(Rlp.Encode(decoded)));
    }

    [Fact]
    public void Decoded_list_items_expose_their_bytes_and_scalars()
    {
        var decoded = Rlp.Decode(Hex.Decode("0xc88363617483646f67"));
        Assert.True(decoded.IsList);
        Assert.Equal("dog"u8.ToArray(), decoded.Items[1].Bytes.ToArray());
        Assert.Equal(new BigInteger(1024), Rlp.Decode(Hex.Decode("0x820400")).ToScalar());
        Assert.Throws<InvalidOperationException>(() => decoded.Bytes.Length);
    }

    [Fact]
    public void Long_lists_use_the_long_header()
    {
        var items = Enumerable.Range(0, 20).Select(_ => Text("dog")).ToArray(); // payload 80 bytes
        var encoded = Rlp.Encode(RlpItem.OfList(items));
        Assert.Equal(new byte[] { 0xf8, 80 }, encoded[..2]);
        Assert.Equal(20, Rlp.Decode(encoded).Items.Count);
    }

    [Fact]
    public void Scalars_encode_without_leading_zeros_and_refuse_negatives()
    {
        Assert.Equal("0x8180", Hex.Encode(Rlp.EncodeScalar(128)));
        Assert.Equal("0x820100", Hex.Encode(Rlp.EncodeScalar(256)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Rlp.EncodeScalar(-1));
    }

    [Theory]
    [InlineData("0x8100", "single byte below 0x80")]
    [InlineData("0x817f", "single byte below 0x80")]
    [InlineData("0xb80100", "long form")]
    [InlineData("0xb8370102", "long form")]
    [InlineData("0xb90000", "leading zero")]
    [InlineData("0xf80100", "long form")]
    [InlineData("0x83646f", "declares 3 byte(s)")]
    [InlineData("0xc3836364", "declares 3 byte(s)")]
    [InlineData("0x83646f6700", "trailing")]
    [InlineData("0xb8", "ended inside a length prefix")]
    [InlineData("0x", "ended")]
    [InlineData("0xbf0100000000000000", "too large")]
    public void Non_canonical_or_truncated_input_is_rejected(string hex, string expected) =>
        Assert.Contains(expected, Assert.Throws<FormatException>(() => Rlp.Decode(Hex.Decode(hex))).Message);

    [Fact]
    public void Scalars_with_leading_zeros_are_rejected() =>
        Assert.Throws<FormatException>(() => Rlp.Decode(Hex.Decode("0x820004")).ToScalar());

    [Fact]
    public void Absurdly_deep_nesting_is_rejected_rather_than_overflowing_the_stack()
    {
        var encoded = Rlp.Encode(RlpItem.OfList());
        for (var depth = 0; depth < 1_000; depth++)
            encoded = Rlp.EncodeList([encoded]);
        Assert.Contains("nest deeper", Assert.Throws<FormatException>(() => Rlp.Decode(encoded)).Message);
    }

    [Property]
    public bool Byte_strings_round_trip(byte[] bytes) =>
        Rlp.Decode(Rlp.EncodeBytes(bytes)).Bytes.SequenceEqual(bytes);

    [Property]
    public bool Lists_of_byte_strings_round_trip(byte[][] strings)
    {
        var decoded = Rlp.Decode(Rlp.Encode(RlpItem.OfList(strings.Select(s => RlpItem.OfBytes(s)))));
        return decoded.Items.Count == strings.Length
            && decoded.Items.Zip(strings).All(pair => pair.First.Bytes.SequenceEqual(pair.Second));
    }

    [Property]
    public bool Scalars_round_trip(ulong high, ulong low)
    {
        var value = ((BigInteger)high << 64) | low;
        return Rlp.Decode(Rlp.EncodeScalar(value)).ToScalar() == value;
    }
}
