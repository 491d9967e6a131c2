using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Nonces;

namespace GrandPaymaster.Chain.Tests.Nonces;

public sealed class NonceBookTests
{
    private static readonly EthAddress Wallet = EthKey.Generate(new Random(5)).Address;

    [Fact]
    public void Nonces_count_up_from_the_chains_pending_count()
    {
        var book = new NonceBook();
        book.Reset(Wallet, pendingCount: 7, floor: 0);

        Assert.Equal([7, 8, 9], new[] { book.Take(Wallet), book.Take(Wallet), book.Take(Wallet) }.Select(n => (int)n));
    }

    [Fact]
    public void A_journaled_transaction_the_chain_never_saw_keeps_its_nonce()
    {
        var book = new NonceBook();

        // The chain says 7 is next, but our journal holds a signed transaction with nonce 7 (a crash before its broadcast).
        book.Reset(Wallet, pendingCount: 7, floor: 8);

        Assert.Equal(8, (int)book.Take(Wallet));
    }

    [Fact]
    public void A_refused_nonce_is_handed_out_again_before_new_ones()
    {
        var book = new NonceBook();
        book.Reset(Wallet, 0, 0);
        var first = book.Take(Wallet);
        var second = book.Take(Wallet);
        book.Take(Wallet);

        book.Free(Wallet, first);
        book.Free(Wallet, second);

        Assert.Equal([0, 1, 3], new[] { book.Take(Wallet), book.Take(Wallet), book.Take(Wallet) }.Select(n => (int)n));
    }

    [Fact]
    public void A_reset_forgets_freed_nonces()
    {
        var book = new NonceBook();
        book.Reset(Wallet, 0, 0);
        var first = book.Take(Wallet);
        book.Take(Wallet);
        book.Free(Wallet, first);

        book.Reset(Wallet, pendingCount: 5, floor: 0);

        Assert.Equal(5, (int)book.Take(Wallet));
    }

    [Fact]
    public void Taking_a_nonce_for_an_unknown_wallet_fails_loudly()
    {
        Assert.Throws<InvalidOperationException>(() => new NonceBook().Take(Wallet));
    }
}
