namespace GrandPaymaster.Domain.Tests.Simulation;

/// <summary>How messages between entities misbehave (each a probability, 0–1; delays in steps).</summary>
public sealed record NetworkFaults(double Late, int MaxLateSteps, double Duplicate)
{
    public static readonly NetworkFaults None = new(0, 0, 0);
}

/// <summary>A message on its way to the pool (<see cref="To"/> null) or to a dApp.</summary>
public sealed record Envelope(string? To, object Body);

/// <summary>
/// The messages between the pool and the dApps: each arrives a step or a few later, sometimes much later, sometimes
/// twice, and the ones due together arrive in any order. A crash of the node loses everything in flight; a restart of
/// one entity, what is on its way to it.
/// </summary>
public sealed class Network(Random random)
{
    private readonly List<(long Due, Envelope Envelope)> _inFlight = [];

    public NetworkFaults Faults { get; set; } = NetworkFaults.None;

    public int InFlight => _inFlight.Count;

    public void Send(long now, Envelope envelope)
    {
        _inFlight.Add((now + Delay(), envelope));
        if (random.NextDouble() < Faults.Duplicate) _inFlight.Add((now + Delay(), envelope));
    }

    /// <summary>The messages due by <paramref name="now"/>, shuffled.</summary>
    public IReadOnlyList<Envelope> Deliver(long now)
    {
        var due = _inFlight.Where(m => m.Due <= now).Select(m => m.Envelope).ToArray();
        if (due.Length == 0) return due;
        _inFlight.RemoveAll(m => m.Due <= now);
        random.Shuffle(due);
        return due;
    }

    public void LoseAll() => _inFlight.Clear();

    /// <summary>One entity restarted: what was on its way to it is lost (what it sent is on the wire already).</summary>
    public void LoseTo(string? to) => _inFlight.RemoveAll(m => m.Envelope.To == to);

    private int Delay() => random.NextDouble() < Faults.Late ? random.Next(5, Faults.MaxLateSteps + 1) : 1 + random.Next(3) / 2;
}
