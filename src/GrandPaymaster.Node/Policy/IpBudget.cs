using System.Net;

namespace GrandPaymaster.Node.Policy;

/// <summary>
/// A small token bucket per client IP for requests without a valid API key (DESIGN.md §9). IPs share a fixed number of
/// slots by hash, so the memory is the same for ten clients or ten million; two IPs that share a slot share its budget.
/// </summary>
public sealed class IpBudget
{
    private readonly UnauthenticatedBudgetSettings _settings;
    private readonly TimeProvider _clock;
    private readonly Slot[] _slots;

    public IpBudget(UnauthenticatedBudgetSettings settings, TimeProvider clock)
    {
        _settings = settings;
        _clock = clock;
        _slots = Enumerable.Range(0, settings.Slots).Select(_ => new Slot { Tokens = settings.Burst, At = clock.GetTimestamp() }).ToArray();
    }

    /// <summary>Takes one request from the IP's budget; when it is empty, the seconds until one is back.</summary>
    public (bool Allowed, int RetryAfterSeconds) TryTake(IPAddress? ip)
    {
        var slot = _slots[(int)(Fnv(ip) % (uint)_slots.Length)];
        lock (slot)
        {
            var now = _clock.GetTimestamp();
            slot.Tokens = Math.Min(_settings.Burst, slot.Tokens + _clock.GetElapsedTime(slot.At, now).TotalSeconds * _settings.PerSecond);
            slot.At = now;
            if (slot.Tokens >= 1)
            {
                slot.Tokens -= 1;
                return (true, 0);
            }

            return (false, (int)Math.Ceiling((1 - slot.Tokens) / Math.Max(_settings.PerSecond, 0.001)));
        }
    }

    /// <summary>FNV-1a over the address bytes: the same slot in every run (IPAddress.GetHashCode is seeded per process).</summary>
    private static uint Fnv(IPAddress? ip)
    {
        var hash = 2166136261u;
        foreach (var b in ip?.GetAddressBytes() ?? []) hash = (hash ^ b) * 16777619u;
        return hash;
    }

    private sealed class Slot
    {
        public double Tokens;
        public long At;
    }
}
