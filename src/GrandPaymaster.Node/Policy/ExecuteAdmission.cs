namespace GrandPaymaster.Node.Policy;

/// <summary>
/// How many executes a node takes at once, adapted to their latency (AIMD, as TCP adapts its window): while the executes'
/// average latency stays under the target the limit grows back toward the ceiling by about one per limit's worth of
/// completions; above it the limit shrinks by a fifth (at most every 100 ms), never under the floor. So at twice the
/// capacity the excess is refused at once (<c>503 overloaded</c>) and the accepted ones keep a short queue, instead of all
/// of them waiting seconds behind a fixed, large limit.
/// </summary>
public sealed class ExecuteAdmission(OverloadSettings settings, TimeProvider clock)
{
    private readonly Lock _gate = new();
    private double _limit = settings.MaxConcurrentExecutes;
    private double _latencyMs;
    private long _lastDecrease;
    private int _inFlight;

    public int Limit
    {
        get
        {
            lock (_gate) return (int)_limit;
        }
    }

    /// <summary>A slot for one execute (dispose it when the answer is known), or null: refuse it as overloaded.</summary>
    public IDisposable? TryEnter()
    {
        lock (_gate)
        {
            if (_inFlight >= (int)_limit) return null;
            _inFlight++;
        }

        return new Slot(this, clock.GetTimestamp());
    }

    private void Exit(long started)
    {
        var latencyMs = clock.GetElapsedTime(started).TotalMilliseconds;
        var now = clock.GetTimestamp();
        lock (_gate)
        {
            _inFlight--;
            _latencyMs += 0.2 * (latencyMs - _latencyMs);
            if (_latencyMs > settings.ExecuteLatencyTarget.TotalMilliseconds)
            {
                if (clock.GetElapsedTime(_lastDecrease, now) < TimeSpan.FromMilliseconds(100)) return;
                _limit = Math.Max(settings.MinConcurrentExecutes, _limit * 0.8);
                _lastDecrease = now;
            }
            else
                _limit = Math.Min(settings.MaxConcurrentExecutes, _limit + 1 / _limit);
        }
    }

    private sealed class Slot(ExecuteAdmission owner, long started) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) owner.Exit(started);
        }
    }
}
