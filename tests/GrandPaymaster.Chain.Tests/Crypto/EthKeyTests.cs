using System.Security.Cryptography;
using FsCheck.Xunit;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Encoding;
using Org.BouncyCastle.Security;
using Xunit;

namespace GrandPaymaster.Chain.Tests.Crypto;

public class EthKeyTests
{
    private const string AnvilKey = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    [Fact]
    public void Anvil_first_dev_key_controls_the_well_known_address() =>
        Assert.Equal("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", EthKey.FromHex(AnvilKey).Address.ToChecksumString());

    [Fact]
    public void Public_key_is_64_bytes_and_hashes_to_the_address()
    {
        var key = EthKey.FromHex(AnvilKey);
        Assert.Equal(64, key.PublicKey.Length);
        Assert.Equal(key.Address, EthAddress.FromPublicKey(key.PublicKey));
        Assert.Equal(key.Address, EthAddress.FromPublicKey([0x04, .. key.PublicKey]));
    }

    [Theory]
    [InlineData("0x0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")] // n
    [InlineData("0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")]
    [InlineData("0x01")]
    public void Keys_outside_one_to_n_minus_one_are_refused(string hex) =>
        Assert.Throws<ArgumentException>(() => EthKey.FromHex(hex));

    [Fact]
    public void Largest_valid_key_is_accepted() =>
        Assert.NotNull(EthKey.FromHex("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140"));

    [Fact]
    public void Signing_is_deterministic()
    {
        var key = EthKey.FromHex(AnvilKey);
        var hash = Keccak256.Hash("payout"u8);
        Assert.Equal(key.Sign(hash), key.Sign(hash));
    }

    [Fact]
    public void Generated_keys_differ_and_default_to_a_secure_source()
    {
        var a = EthKey.Generate();
        var b = EthKey.Generate(new SecureRandom());
        Assert.NotEqual(a.Address, b.Address);
    }

    [Fact]
    public void String_form_never_shows_the_private_key() =>
        Assert.DoesNotContain("ac0974bec", EthKey.FromHex(AnvilKey).ToString());

    [Fact]
    public void Recovery_rejects_out_of_range_signatures()
    {
        var hash = Keccak256.Hash("x"u8);
        Assert.Throws<CryptographicException>(() => EthKey.Recover(hash, new EcdsaSignature(0, 1, 0)));
        Assert.Throws<CryptographicException>(() => EthKey.Recover(hash, new EcdsaSignature(1, EthKey.CurveOrder, 0)));
        Assert.Throws<ArgumentException>(() => EthKey.Recover(new byte[31], new EcdsaSignature(1, 1, 0)));
    }

    [Fact]
    public void Signing_refuses_hashes_that_are_not_32_bytes() =>
        Assert.Throws<ArgumentException>(() => EthKey.FromHex(AnvilKey).Sign(new byte[20]));

    [Property(Arbitrary = [typeof(Generators)])]
    public bool Signatures_recover_to_the_signer(EthKey key, Hash32 hash) =>
        EthKey.Recover(hash.Bytes, key.Sign(hash.Bytes)) == key.Address;

    [Property(Arbitrary = [typeof(Generators)])]
    public bool Signatures_are_low_s_with_a_recovery_id_of_zero_or_one(EthKey key, Hash32 hash)
    {
        var signature = key.Sign(hash.Bytes);
        return signature.S > 0 && signature.S <= EthKey.CurveOrder / 2 && signature.RecoveryId is 0 or 1;
    }

    [Property(Arbitrary = [typeof(Generators)])]
    public bool Flipping_the_recovery_id_recovers_someone_else(EthKey key, Hash32 hash)
    {
        var signature = key.Sign(hash.Bytes);
        var other = signature with { RecoveryId = 1 - signature.RecoveryId };
        return EthKey.Recover(hash.Bytes, other) != key.Address;
    }

    [Property(Arbitrary = [typeof(Generators)])]
    public bool Keys_round_trip_through_their_address_and_public_key(EthKey key) =>
        EthAddress.FromPublicKey(key.PublicKey) == key.Address
        && EthKey.RecoverPublicKey(Keccak256.Hash(key.PublicKey), key.Sign(Keccak256.Hash(key.PublicKey))).AsSpan().SequenceEqual(key.PublicKey);

    [Fact]
    public void Curve_order_is_secp256k1s() =>
        Assert.Equal(Hex.ParseQuantity("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"), EthKey.CurveOrder);
}
