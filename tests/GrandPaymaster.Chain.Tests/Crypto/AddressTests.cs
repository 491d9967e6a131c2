using GrandPaymaster.Chain.Crypto;
using Xunit;

namespace GrandPaymaster.Chain.Tests.Crypto;

public class AddressTests
{
    [Theory]
    [InlineData("0x52908400098527886E0F7030069857D2E4169EE7")]
    [InlineData("0x8617E340B3D01FA5F11F306F4090FD50E238070D")]
    [InlineData("0xde709f2102306220921060314715629080e2fb77")]
    [InlineData("0x27b1fdb04752bbc536007a920d24acb045561c26")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    [InlineData("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")]
    [InlineData("0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB")]
    [InlineData("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb")]
    public void Eip55_vectors_parse_and_print_back_exactly(string checksummed)
    {
        Assert.Equal(checksummed, EthAddress.Parse(checksummed).ToChecksumString());
        Assert.Equal(checksummed, EthAddress.Parse(checksummed.ToLowerInvariant()).ToString());
    }

    [Fact]
    public void All_upper_and_all_lower_case_parse_without_a_checksum()
    {
        var expected = EthAddress.Parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
        Assert.Equal(expected, EthAddress.Parse("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED"));
        Assert.Equal(expected, EthAddress.Parse("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"));
    }

    [Theory]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "checksum")]
    [InlineData("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "checksum")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA", "40 hex digits")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedaa", "40 hex digits")]
    [InlineData("0xgaAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "non-hex")]
    public void Malformed_or_wrongly_checksummed_addresses_are_rejected(string text, string expected)
    {
        Assert.Contains(expected, Assert.Throws<FormatException>(() => EthAddress.Parse(text)).Message);
        Assert.False(EthAddress.TryParse(text, out _));
    }

    [Fact]
    public void Addresses_compare_by_value()
    {
        var a = EthAddress.Parse("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359");
        var b = new EthAddress(a.ToArray());
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, EthAddress.Zero);
        Assert.Equal("0x0000000000000000000000000000000000000000", default(EthAddress).ToChecksumString());
    }

    [Fact]
    public void Wrong_sized_inputs_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new EthAddress(new byte[19]));
        Assert.Throws<ArgumentException>(() => EthAddress.FromPublicKey(new byte[63]));
    }
}
