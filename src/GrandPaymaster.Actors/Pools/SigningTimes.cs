using System.Collections.Concurrent;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Actors.Pools;

/// <summary>
/// How long this node's pools take to sign, per chain: the last <c>window</c> signatures on a ring (fixed memory per chain).
/// The pools record each signature (two timestamps around it); the alert watch reads the mean.
/// </summary>
public sealed class SigningTimes(int window = 32)
{
    private readonly ConcurrentDictionary<long, Ring> _chains = new();

    public void Record(ChainId chainId, TimeSpan elapsed) => _chains.GetOrAdd(chainId.Value, _ => new Ring(Math.Max(1, window))).Add(elapsed.Ticks);

    /// <summary>The mean of the chain's last signatures and how many there were (null before the first).</summary>
    public (TimeSpan Mean, int Count)? Recent(ChainId chainId) => _chains.TryGetValue(chainId.Value, out var ring) ? ring.Mean() : null;

    public IReadOnlyList<long> Chains => _chains.Keys.ToArray();

    private sealed class Ring(int size)
    {
        private readonly long[] _ticks = new long[size];
        private int _count;
        private int _next;

        public void Add(long ticks)
        {
            lock (_ticks)
            {
                _ticks[_next] = ticks;
                _next = (_next + 1) % _ticks.Length;
                _count = Math.Min(_count + 1, _ticks.Length);
            }
        }

        public (TimeSpan, int)? Mean()
        {
            lock (_ticks)
            {
                if (_count == 0) return null;
                long sum = 0;
                for (var i = 0; i < _count; i++) sum += _ticks[i];
                return (TimeSpan.FromTicks(sum / _count), _count);
            }
        }
    }
}
