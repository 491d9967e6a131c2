namespace GrandPaymaster.LoadTest.Engine;

/// <summary>
/// A named open-model scenario: <see cref="Step"/> is started <see cref="Rate"/> times per second,
/// first for <see cref="WarmUp"/> (executed, not recorded) and then for <see cref="Duration"/> (recorded).
/// </summary>
/// <remarks>
/// Invalid settings throw when they are set, so a mistyped scenario fails before any traffic is sent.
/// </remarks>
public sealed class Scenario
{
    /// <summary>The longest the runner may wait for outstanding requests after injection stops.</summary>
    public static readonly TimeSpan MaxDrainTimeout = TimeSpan.FromSeconds(10);

    private readonly double _rate = 10;
    private readonly TimeSpan _warmUp = TimeSpan.Zero;
    private readonly TimeSpan _duration = TimeSpan.FromSeconds(10);
    private readonly int _maxInFlight = 100;
    private readonly TimeSpan _drainTimeout = MaxDrainTimeout;

    /// <summary>Creates a scenario; tune it with the init-only properties.</summary>
    /// <param name="name">Shown in reports; any text, it is encoded where it is embedded.</param>
    /// <param name="step">
    /// One request. It receives the request's sequence number (0-based, warm-up included) and a token
    /// that is cancelled when the run is cancelled or the request is abandoned as timed out.
    /// </param>
    public Scenario(string name, Func<long, CancellationToken, Task<StepResult>> step)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(step);
        Name = name;
        Step = step;
    }

    /// <summary>The scenario's name, as shown in reports.</summary>
    public string Name { get; }

    /// <summary>One request; see the constructor for its arguments.</summary>
    public Func<long, CancellationToken, Task<StepResult>> Step { get; }

    /// <summary>Constant injection rate in requests per second; finite and greater than zero.</summary>
    public double Rate
    {
        get => _rate;
        init => _rate = double.IsFinite(value) && value > 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Rate), value, "Rate must be a finite number of requests per second above zero.");
    }

    /// <summary>How long requests are injected before recording starts; zero or more.</summary>
    public TimeSpan WarmUp
    {
        get => _warmUp;
        init => _warmUp = value >= TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(WarmUp), value, "Warm-up cannot be negative.");
    }

    /// <summary>How long requests are injected and recorded; above zero.</summary>
    public TimeSpan Duration
    {
        get => _duration;
        init => _duration = value > TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Duration), value, "Duration must be above zero.");
    }

    /// <summary>
    /// Cap on outstanding requests. A request due while the cap is reached is counted as dropped, not queued:
    /// queueing would let a slow server throttle the injector and turn the open model into a closed one.
    /// </summary>
    public int MaxInFlight
    {
        get => _maxInFlight;
        init => _maxInFlight = value >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxInFlight), value, "MaxInFlight must be at least 1.");
    }

    /// <summary>
    /// How long to wait for outstanding requests once injection has stopped (at most
    /// <see cref="MaxDrainTimeout"/>); those still running then are counted as timed out.
    /// </summary>
    public TimeSpan DrainTimeout
    {
        get => _drainTimeout;
        init => _drainTimeout = value >= TimeSpan.Zero && value <= MaxDrainTimeout
            ? value
            : throw new ArgumentOutOfRangeException(nameof(DrainTimeout), value, "DrainTimeout must be between zero and 10 s.");
    }
}
