namespace GrandPaymaster.Chain.Devnet;

/// <summary>The last <c>capacity</c> lines a process wrote: bounded however much it writes; safe to add from any thread.</summary>
public sealed class RecentLines(int capacity)
{
    private readonly Queue<string> _lines = new(capacity);

    public void Add(string? line)
    {
        if (line is null) return;
        lock (_lines)
        {
            if (_lines.Count == capacity) _lines.Dequeue();
            _lines.Enqueue(line);
        }
    }

    public IReadOnlyList<string> Snapshot()
    {
        lock (_lines) return _lines.ToArray();
    }
}
