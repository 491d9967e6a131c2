namespace GrandPaymaster.Domain.Tests.Simulation;

/// <summary>Time that moves only when told to, so a run never waits and replays to the tick.</summary>
public sealed class FakeClock(DateTimeOffset start)
{
    public static readonly DateTimeOffset Epoch = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    public FakeClock()
        : this(Epoch)
    {
    }

    public DateTimeOffset Now { get; private set; } = start;

    public void Advance(TimeSpan by) => Now += by;
}
