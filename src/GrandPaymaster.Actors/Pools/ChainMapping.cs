using GrandPaymaster.Chain.Crypto;
using Address = GrandPaymaster.Domain.Common.Address;

namespace GrandPaymaster.Actors.Pools;

/// <summary>The one mapping between the Domain's address (an id) and the Chain's (20 bytes with a checksum).</summary>
public static class ChainMapping
{
    public static EthAddress ToChain(this Address address) => EthAddress.Parse(address.Value);

    public static Address ToDomain(this EthAddress address) => Address.Parse(address.ToChecksumString());
}
