using System.Diagnostics;

namespace GrandPaymaster.LoadTest.Engine;

/// <summary>
/// This process's memory while some work ran: its working set (<see cref="Process.WorkingSet64"/>) and its managed heap
/// (<see cref="GC.GetTotalMemory"/>, no collection forced), before, after and at the highest of samples taken every 100 ms.
/// The bench's node runs in this process, so the figures are the node and the load generator together.
/// </summary>
public sealed record MemoryUse(long WorkingSetBefore, long WorkingSetAfter, long WorkingSetPeak, long HeapBefore, long HeapAfter, long HeapPeak)
{
    public long WorkingSetGrowth => WorkingSetPeak - WorkingSetBefore;

    public static async Task<(T Result, MemoryUse Memory)> WatchAsync<T>(Func<Task<T>> work)
    {
        using var process = Process.GetCurrentProcess();
        (long WorkingSet, long Heap) Sample()
        {
            process.Refresh();
            return (process.WorkingSet64, GC.GetTotalMemory(forceFullCollection: false));
        }

        var before = Sample();
        var peak = before;
        using var done = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                var now = Sample();
                peak = (Math.Max(peak.WorkingSet, now.WorkingSet), Math.Max(peak.Heap, now.Heap));
                await Task.Delay(100, CancellationToken.None);
            }
        });
        var result = await work();
        await done.CancelAsync();
        await sampler;
        var after = Sample();
        return (result, new MemoryUse(before.WorkingSet, after.WorkingSet, Math.Max(peak.WorkingSet, after.WorkingSet), before.Heap, after.Heap,
            Math.Max(peak.Heap, after.Heap)));
    }

    public override string ToString() =>
        $"working set {Mb(WorkingSetBefore)} before, {Mb(WorkingSetAfter)} after, peak {Mb(WorkingSetPeak)} (+{Mb(WorkingSetGrowth)}); " +
        $"managed heap {Mb(HeapBefore)} before, {Mb(HeapAfter)} after, peak {Mb(HeapPeak)}";

    public static string Mb(long bytes) => (bytes / (1024.0 * 1024)).ToString("0", System.Globalization.CultureInfo.InvariantCulture) + " MB";
}
