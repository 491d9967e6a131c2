using System.Collections.Immutable;
using GrandPaymaster.Actors.Compliance;
using GrandPaymaster.Actors.Dapps;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Compliance;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;
using static GrandPaymaster.Domain.Dapps.DappEvents;

namespace GrandPaymaster.Actors.Tests.Dapps;

/// <summary>The edge's directory of dApps and its denylist board: versions, key rotation, scoped entries.</summary>
public sealed class DappDirectoryTests
{
    private static readonly DappId Dapp = DappId.Parse("acme");
    private static readonly Meta Meta = new(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero), "operator:olga", "test", "c");

    [Fact]
    public void A_rotated_key_replaces_the_old_one_and_an_older_copy_never_brings_it_back()
    {
        var feed = new DappDirectory();
        var registered = feed.Apply(new DappRegistered(Dapp, "Acme", "old-hash", new Bps(3_000), Meta), 1)!;
        var rotated = feed.Apply(new ApiKeyRotated(Dapp, "new-hash", Meta), 4)!;
        var edge = new DappDirectory();

        edge.Upsert(rotated);
        edge.Upsert(registered); // a replay after a failover, or a late notification

        Assert.Null(edge.Authenticate(Dapp, "old-hash"));
        Assert.Equal(4, edge.Authenticate(Dapp, "new-hash")?.Version);
        Assert.Null(feed.Apply(new DappFrozen(Dapp, "operator", "x", Meta), 3)); // already folded past it
    }

    [Fact]
    public void An_admin_routes_own_change_holds_until_the_journaled_event_arrives()
    {
        var edge = new DappDirectory();
        edge.Upsert(new DirectoryEntry(Dapp, "hash", Frozen: true, null, Version: 5));

        edge.Update(Dapp, e => e with { Frozen = false });
        edge.Upsert(new DirectoryEntry(Dapp, "hash", Frozen: true, null, Version: 5)); // the older replicated copy
        Assert.False(edge.Find(Dapp)!.Frozen);

        edge.Upsert(new DirectoryEntry(Dapp, "hash", Frozen: false, null, Version: 6)); // the unfreeze's own event
        Assert.Equal(6, edge.Find(Dapp)!.Version);
    }

    [Fact]
    public void Events_of_a_dapp_the_directory_never_saw_registered_change_nothing()
    {
        var directory = new DappDirectory();

        Assert.Null(directory.Apply(new ApiKeyRotated(Dapp, "hash", Meta), 2));
        Assert.Equal(0, directory.Count);
    }

    [Fact]
    public void A_wallet_listed_for_one_dapp_is_refused_only_there_a_global_entry_everywhere()
    {
        var board = new DenylistBoard();
        var now = Meta.At;
        var wallet = "0x" + new string('4', 40);
        var scoped = new DenylistEntry(DenylistKind.Wallet, wallet, "rule", "system:denylist-rules", now, now.AddHours(1), "acme");
        board.SetReplica(ImmutableDictionary<string, DenylistEntry>.Empty.Add(scoped.Key, scoped));

        Assert.NotNull(board.Find(DenylistKind.Wallet, wallet, now, "acme"));
        Assert.Null(board.Find(DenylistKind.Wallet, wallet, now, "other"));
        Assert.Null(board.Find(DenylistKind.Wallet, wallet, now.AddHours(2), "acme"));

        var global = new DenylistEntry(DenylistKind.Wallet, wallet, "sanctions", "operator:olga", now, null);
        board.SetSingleton(ImmutableDictionary<string, DenylistEntry>.Empty.Add(global.Key, global));
        Assert.NotNull(board.Find(DenylistKind.Wallet, wallet, now, "other"));
        board.SetSingleton(null);
        Assert.Null(board.Find(DenylistKind.Wallet, wallet, now, "other"));
    }
}
