using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Domain.Tests.Common;

public sealed class IdentifierTests
{
    [Theory]
    [InlineData("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")]
    [InlineData("0x70997970c51812dc3a010c7d01b50e0d17dc79c8")]
    public void Addresses_compare_equal_whatever_their_letter_case(string text)
    {
        Assert.Equal(Address.Parse("0x70997970C51812DC3A010C7D01B50E0D17DC79C8".Replace("0X", "0x")), Address.Parse(text));
        Assert.Equal(text.ToLowerInvariant(), Address.Parse(text).Value);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("70997970c51812dc3a010c7d01b50e0d17dc79c8")]
    [InlineData("0x70997970c51812dc3a010c7d01b50e0d17dc79c")]
    [InlineData("0x70997970c51812dc3a010c7d01b50e0d17dc79c8a")]
    [InlineData("0x70997970c51812dc3a010c7d01b50e0d17dc79zz")]
    public void Malformed_addresses_are_rejected(string? text)
    {
        Assert.False(Address.TryParse(text, out _));
    }

    [Theory]
    [InlineData("31337", true)]
    [InlineData("0", false)]
    [InlineData("-1", false)]
    [InlineData("1e3", false)]
    [InlineData("", false)]
    public void Chain_ids_are_positive_integers(string text, bool valid)
    {
        Assert.Equal(valid, ChainId.TryParse(text, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ChainId(0));
    }
}
