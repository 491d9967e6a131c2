using System.Numerics;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Actors.Tests.Fakes;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Actors.Tests.Pools;

/// <summary>
/// When a transaction is looked up on its own: only once the block scan has read past the head of the time it was first
/// watched (it should have been found) or the scan is stuck, never while the scan is merely catching up on a burst.
/// </summary>
public sealed class ReceiptWatchTests
{
    private const string Key = "quote-1";
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly PoolSettings Settings = new() { RebroadcastAfter = TimeSpan.FromSeconds(15), MaxBlocksPerScan = 32 };
    private static readonly IReadOnlySet<string> Watched = new HashSet<string> { "0xours" };

    private readonly ScriptedChain _chain = new();
    private readonly ReceiptWatch _watch;

    public ReceiptWatchTests()
    {
        _watch = new ReceiptWatch(_chain, Settings);
    }

    [Fact]
    public async Task A_transaction_first_watched_while_the_scan_is_behind_is_not_looked_up_while_the_scan_catches_up()
    {
        await SeeHeadAsync(T0); // cursor at 100
        _chain.AdvanceEmpty(200);
        await SeeHeadAsync(T0); // head 300, 201 blocks behind
        Assert.False(_watch.LookupDue(Key, T0)); // first sight, with head 300

        await ScanOnceAsync(T0.AddSeconds(10)); // the cursor moves (132): the scan is progressing
        Assert.Equal(new BigInteger(169), _watch.BlocksBehind);

        Assert.False(_watch.LookupDue(Key, T0.AddSeconds(16)));
    }

    [Fact]
    public async Task A_transaction_is_looked_up_once_its_time_came_and_the_scan_read_past_the_head_it_was_first_watched_at()
    {
        await SeeHeadAsync(T0);
        _chain.AdvanceEmpty(40);
        await SeeHeadAsync(T0); // head 140
        Assert.False(_watch.LookupDue(Key, T0));
        await ScanOnceAsync(T0.AddSeconds(1)); // 100..131
        await ScanOnceAsync(T0.AddSeconds(2)); // 132..140: caught up

        Assert.False(_watch.LookupDue(Key, T0.AddSeconds(14))); // not yet its time
        Assert.True(_watch.LookupDue(Key, T0.AddSeconds(16)));
        Assert.False(_watch.LookupDue(Key, T0.AddSeconds(17))); // one lookup at a time
    }

    [Fact]
    public async Task A_scan_whose_cursor_has_not_moved_for_a_while_is_stuck_and_transactions_are_looked_up_on_their_own()
    {
        await SeeHeadAsync(T0);
        _chain.AdvanceEmpty(200);
        await SeeHeadAsync(T0);
        Assert.False(_watch.LookupDue(Key, T0));
        await ScanOnceAsync(T0.AddSeconds(1)); // the cursor last moved at T0 + 1 s

        Assert.False(_watch.LookupDue(Key, T0.AddSeconds(15)));
        Assert.True(_watch.LookupDue(Key, T0.AddSeconds(16)));
    }

    [Fact]
    public async Task A_lookup_brought_forward_is_due_at_once_whatever_the_scan()
    {
        await SeeHeadAsync(T0);
        _chain.AdvanceEmpty(200);
        await SeeHeadAsync(T0);

        _watch.LookupSoon(Key, T0);

        Assert.True(_watch.LookupDue(Key, T0));
    }

    private async Task SeeHeadAsync(DateTimeOffset now) => _watch.HeadSeen(await _chain.HeadAsync(), now);

    private async Task ScanOnceAsync(DateTimeOffset now) =>
        _watch.Scanned(await (_watch.NextScan(Watched, now) ?? throw new InvalidOperationException("nothing to scan")), now);
}
