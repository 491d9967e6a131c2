using System.Numerics;
using GrandPaymaster.Chain.Rpc;

namespace GrandPaymaster.Node.Hosting;

/// <summary>
/// The gas limit of a chain's latest block, read at most once per <see cref="FreshFor"/>: a transaction above it can never be
/// mined, so a quote for one is refused rather than held. A stale value is answered at once while one read refreshes it in the
/// background (a block's limit moves by at most 1/1024 per block), so quotes never wait on this read after the first.
/// </summary>
public sealed class BlockGasLimit(ChainEndpoints endpoints, TimeProvider time)
{
    public static readonly TimeSpan FreshFor = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Below a plain transfer's gas no block is real: such an answer is a broken node, not a limit.</summary>
    private static readonly BigInteger Plausible = 21_000;

    private readonly Lock _gate = new();
    private volatile Reading? _last;
    private Task<Reading?>? _reading;

    /// <summary>The latest block's gas limit as last read; null when the chain has not answered it yet.</summary>
    public async Task<BigInteger?> GetAsync(CancellationToken ct)
    {
        var last = _last;
        if (last is not null && time.GetUtcNow() - last.At < FreshFor) return last.GasLimit;
        var reading = Refresh();
        if (last is not null) return last.GasLimit;
        return (await reading.WaitAsync(ct))?.GasLimit;
    }

    /// <summary>One read at a time, whoever asks; on its own thread, so it cannot finish before it is recorded as in flight.</summary>
    private Task<Reading?> Refresh()
    {
        lock (_gate) return _reading ??= Task.Run(ReadAsync);
    }

    private async Task<Reading?> ReadAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(ReadTimeout);
            var block = await endpoints.CallAsync((client, ct) => client.GetBlockByNumberAsync(BlockTag.Latest, ct), timeout.Token);
            if (block is not null && block.GasLimit >= Plausible) _last = new Reading(block.GasLimit, time.GetUtcNow());
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException or FormatException)
        {
            // The chain's outage shows in the quote's own RPC calls; here the last known limit (or none) stays.
        }
        finally
        {
            lock (_gate) _reading = null;
        }

        return _last;
    }

    private sealed record Reading(BigInteger GasLimit, DateTimeOffset At);
}
