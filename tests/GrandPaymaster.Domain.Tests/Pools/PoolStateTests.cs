using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Pools;

namespace GrandPaymaster.Domain.Tests.Pools;

public sealed class PoolStateTests
{
    private static readonly ChainId Chain = new(31337);
    private static readonly Address Wallet = Address.Parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    private static readonly Meta Meta = new(DateTimeOffset.UnixEpoch, "operator:alice", "add a worker", "c-1");

    [Fact]
    public void Registering_a_new_wallet_emits_one_event_carrying_who_and_why()
    {
        var (reply, events) = PoolState.Empty(Chain).Handle(new PoolCommands.RegisterWorkerWallet(Chain, Wallet, Meta));

        Assert.True(reply.Added);
        var registered = Assert.IsType<PoolEvents.WorkerWalletRegistered>(Assert.Single(events));
        Assert.Equal(Wallet, registered.Wallet);
        Assert.Same(Meta, registered.Meta);
    }

    [Fact]
    public void Registering_a_known_wallet_changes_nothing()
    {
        var state = PoolState.Empty(Chain).Apply(new PoolEvents.WorkerWalletRegistered(Chain, Wallet, Meta));

        var (reply, events) = state.Handle(new PoolCommands.RegisterWorkerWallet(Chain, Address.Parse(Wallet.Value.ToUpperInvariant().Replace("0X", "0x")), Meta));

        Assert.False(reply.Added);
        Assert.Empty(events);
    }

    [Fact]
    public void Applying_events_keeps_wallets_in_registration_order()
    {
        var second = Address.Parse("0x" + new string('b', 40));
        var state = PoolState.Empty(Chain)
            .Apply(new PoolEvents.WorkerWalletRegistered(Chain, Wallet, Meta))
            .Apply(new PoolEvents.WorkerWalletRegistered(Chain, second, Meta));

        Assert.Equal([Wallet, second], state.Workers);
        Assert.Equal(PoolStatus.Active, state.Status);
    }

    [Fact]
    public void A_command_for_another_chain_is_refused()
    {
        Assert.Throws<ArgumentException>(() =>
            PoolState.Empty(Chain).Handle(new PoolCommands.RegisterWorkerWallet(new ChainId(1), Wallet, Meta)));
    }
}
