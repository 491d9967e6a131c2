using System.Numerics;
using FsCheck.Xunit;
using GrandPaymaster.Chain.Encoding;
using Xunit;

namespace GrandPaymaster.Chain.Tests.Encoding;

public class HexTests
{
    [Fact]
    public void Encode_writes_lower_case_with_a_prefix_by_default()
    {
        Assert.Equal("0x00abff", Hex.Encode([0x00, 0xab, 0xff]));
        Assert.Equal("00abff", Hex.Encode([0x00, 0xab, 0xff], prefix: false));
        Assert.Equal("0x", Hex.Encode([]));
    }

    [Theory]
    [InlineData("0xDeadBeef")]
    [InlineData("deadbeef")]
    [InlineData("0XDEADBEEF")]
    public void Decode_accepts_either_case_with_or_without_prefix(string text) =>
        Assert.Equal(new byte[] { 0xde, 0xad, 0xbe, 0xef }, Hex.Decode(text));

    [Theory]
    [InlineData("0x", 0)]
    [InlineData("", 0)]
    public void Decode_reads_empty_hex_as_no_bytes(string text, int length) =>
        Assert.Equal(length, Hex.Decode(text).Length);

    [Theory]
    [InlineData("0xabc", "odd number")]
    [InlineData("zz", "non-hex character 'z' at position 0")]
    [InlineData("0x12zz", "non-hex character 'z' at position 4")]
    [InlineData("0x 1", "non-hex")]
    public void Decode_rejects_malformed_hex_naming_the_problem(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => Hex.Decode(text));
        Assert.Contains(expected, error.Message);
        Assert.False(Hex.TryDecode(text, out _));
    }

    [Fact]
    public void Decode_rejects_null_with_a_format_error()
    {
        var error = Assert.Throws<FormatException>(() => Hex.Decode(null!));
        Assert.Contains("null", error.Message);
        Assert.False(Hex.TryDecode(null, out _));
    }

    [Theory]
    [InlineData("0x0", 0)]
    [InlineData("0x1a", 26)]
    [InlineData("0x00ff", 255)]
    [InlineData("0xFF", 255)]
    public void ParseQuantity_reads_json_rpc_quantities(string text, int expected) =>
        Assert.Equal(new BigInteger(expected), Hex.ParseQuantity(text));

    [Fact]
    public void ParseQuantity_never_reads_a_high_top_bit_as_negative() =>
        Assert.Equal(BigInteger.Pow(2, 256) - 1, Hex.ParseQuantity("0x" + new string('f', 64)));

    [Theory]
    [InlineData("0x", "no digits")]
    [InlineData("1a", "must start with 0x")]
    [InlineData("-0x1", "must start with 0x")]
    [InlineData("0xzz", "non-hex")]
    public void ParseQuantity_rejects_malformed_quantities(string text, string expected) =>
        Assert.Contains(expected, Assert.Throws<FormatException>(() => Hex.ParseQuantity(text)).Message);

    [Fact]
    public void ParseQuantity_rejects_null() =>
        Assert.Throws<FormatException>(() => Hex.ParseQuantity(null!));

    [Theory]
    [InlineData(0, "0x0")]
    [InlineData(1, "0x1")]
    [InlineData(255, "0xff")]
    [InlineData(256, "0x100")]
    [InlineData(1024, "0x400")]
    public void FormatQuantity_writes_no_leading_zeros(int value, string expected) =>
        Assert.Equal(expected, Hex.FormatQuantity(value));

    [Fact]
    public void FormatQuantity_refuses_negative_values() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Hex.FormatQuantity(-1));

    [Property]
    public bool Bytes_round_trip_through_hex(byte[] bytes) =>
        Hex.Decode(Hex.Encode(bytes)).AsSpan().SequenceEqual(bytes);

    [Property]
    public bool Quantities_round_trip_through_hex(ulong high, ulong low)
    {
        var value = ((BigInteger)high << 64) | low;
        return Hex.ParseQuantity(Hex.FormatQuantity(value)) == value;
    }
}
