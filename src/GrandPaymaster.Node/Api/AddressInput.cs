using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// An address sent from outside, checked as wallets and libraries check it (ethers v6 <c>getAddress</c>): <c>0x</c> and 40 hex
/// digits; all lower or all upper case carries no checksum, mixed case is an EIP-55 checksum and must be right. A wrong
/// checksum is usually a mistyped address, which must not be sponsored or listed.
/// </summary>
public static class AddressInput
{
    public const string FormatError = "must be a 0x-prefixed 20-byte hex address";

    /// <summary>The address, or the reason it is refused (the field's error text).</summary>
    public static bool TryParse(string text, out Address address, out string error)
    {
        error = "";
        if (!Address.TryParse(text, out address))
        {
            error = FormatError;
            return false;
        }

        // EthAddress checks the EIP-55 checksum of mixed-case text with the Chain project's Keccak-256.
        // The right checksum is not told: for a mistyped address it would only dress the typo up as valid.
        if (EthAddress.TryParse(text, out _)) return true;
        address = default;
        error = "has a wrong EIP-55 checksum (mixed-case letters must match it exactly; all lower case carries none)";
        return false;
    }
}
