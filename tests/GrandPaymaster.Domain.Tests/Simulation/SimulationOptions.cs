namespace GrandPaymaster.Domain.Tests.Simulation;

/// <summary>How long a run is and whether its pool host is deliberately broken (the self-test of the invariants).</summary>
public sealed record SimulationOptions
{
    /// <summary>Steps (one simulated second each) with traffic and faults.</summary>
    public int ActiveSteps { get; init; } = 240;

    /// <summary>At most this many fault-free steps for everything to be mined, settled and acknowledged.</summary>
    public int MaxQuietSteps { get; init; } = 1_500;

    /// <summary>Breaks the pool host on purpose: a first broadcast answered "unknown" is taken as refused (and its hold released).</summary>
    public bool ReleaseOnUnknownVerdict { get; init; }

    /// <summary>Keeps a log of the run, printed with a failure (for replaying one seed).</summary>
    public bool Trace { get; init; }
}

/// <summary>What one seed did: the failure (null when every invariant held) and counts of what it exercised.</summary>
public sealed record SimulationResult(int Seed, string? Failure, string? Invariant, IReadOnlyDictionary<string, int> Counts)
{
    public bool Failed => Failure is not null;
}
