using HdrHistogram;

namespace GrandPaymaster.LoadTest.Engine;

/// <summary>
/// Collects the measured requests of one run. Thread-safe: completions arrive from any thread.
/// </summary>
internal sealed class RunRecorder
{
    private const long HighestMicros = 60_000_000;
    private const int SignificantDigits = 3;

    // Two digits (1 % resolution) per second is plenty for a chart and keeps a long run's memory small:
    // at three digits each second's histogram would take about 130 KB.
    private const int PerSecondSignificantDigits = 2;

    private readonly Lock _gate = new();
    private readonly LongHistogram _latency = new(1, HighestMicros, SignificantDigits);
    private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly Second[] _seconds;
    private readonly long _measureStart;
    private readonly long _ticksPerSecond;
    private long _requests, _ok, _failed, _dropped, _inFlight, _timedOut;
    private bool _sealed;

    public RunRecorder(long measureStartTimestamp, long timestampFrequency, TimeSpan duration)
    {
        _measureStart = measureStartTimestamp;
        _ticksPerSecond = timestampFrequency;
        var secondCount = (int)Math.Max(1, Math.Ceiling(duration.TotalSeconds - 1e-9));
        _seconds = new Second[secondCount];
        for (var i = 0; i < secondCount; i++)
        {
            _seconds[i] = new Second();
        }
    }

    public void RecordStarted(long scheduledTimestamp)
    {
        lock (_gate)
        {
            _requests++;
            _inFlight++;
            SecondOf(scheduledTimestamp).Started++;
        }
    }

    public void RecordDropped(long scheduledTimestamp)
    {
        lock (_gate)
        {
            _requests++;
            _dropped++;
            SecondOf(scheduledTimestamp).Dropped++;
        }
    }

    public void RecordCompleted(long scheduledTimestamp, TimeSpan latency, StepResult result)
    {
        var micros = Math.Clamp(latency.Ticks / TimeSpan.TicksPerMicrosecond, 0, HighestMicros);
        lock (_gate)
        {
            // After sealing, this request has already been counted as timed out.
            if (_sealed)
            {
                return;
            }

            _inFlight--;
            _latency.RecordValue(micros);
            var second = SecondOf(scheduledTimestamp);
            second.Latency.RecordValue(micros);
            if (result.IsSuccess)
            {
                _ok++;
                second.Ok++;
            }
            else
            {
                _failed++;
                second.Failed++;
                var code = string.IsNullOrEmpty(result.Code) ? StepResult.UnspecifiedCode : result.Code;
                _errors[code] = _errors.GetValueOrDefault(code) + 1;
            }
        }
    }

    /// <summary>Stops recording; whatever is still outstanding becomes a timeout.</summary>
    public void Seal()
    {
        lock (_gate)
        {
            if (!_sealed)
            {
                _sealed = true;
                _timedOut = _inFlight;
            }
        }
    }

    public ScenarioStats ToStats(Scenario scenario, TimeSpan measuredDuration, bool cancelled)
    {
        Seal();
        lock (_gate)
        {
            return new ScenarioStats
            {
                ScenarioName = scenario.Name,
                Rate = scenario.Rate,
                WarmUp = scenario.WarmUp,
                Duration = scenario.Duration,
                MaxInFlight = scenario.MaxInFlight,
                MeasuredDuration = measuredDuration,
                Cancelled = cancelled,
                Requests = _requests,
                Ok = _ok,
                Failed = _failed,
                Dropped = _dropped,
                TimedOut = _timedOut,
                Latency = new LatencyPercentiles(
                    Ms(_latency, 50), Ms(_latency, 75), Ms(_latency, 95), Ms(_latency, 99), Ms(_latency, 99.9),
                    _latency.TotalCount == 0 ? 0 : _latency.GetMaxValue() / 1000.0),
                Errors = _errors
                    .OrderByDescending(e => e.Value)
                    .ThenBy(e => e.Key, StringComparer.Ordinal)
                    .ToArray(),
                PerSecond = _seconds.Select(ToSecondStats).ToArray(),
            };
        }
    }

    private static SecondStats ToSecondStats(Second s, int index)
    {
        var any = s.HasLatency;
        return new SecondStats(
            index, s.Started, s.Ok, s.Failed, s.Dropped,
            any ? Ms(s.Latency, 50) : null,
            any ? Ms(s.Latency, 95) : null,
            any ? Ms(s.Latency, 99) : null);
    }

    private static double Ms(HistogramBase histogram, double percentile) =>
        histogram.TotalCount == 0 ? 0 : histogram.GetValueAtPercentile(percentile) / 1000.0;

    private Second SecondOf(long scheduledTimestamp)
    {
        var index = (scheduledTimestamp - _measureStart) / _ticksPerSecond;
        return _seconds[Math.Clamp(index, 0, _seconds.Length - 1)];
    }

    private sealed class Second
    {
        private LongHistogram? _latency;

        public long Started;
        public long Ok;
        public long Failed;
        public long Dropped;

        public bool HasLatency => _latency is { TotalCount: > 0 };

        // Allocated on first use: seconds in which nothing completes (e.g. all dropped) cost nothing.
        public LongHistogram Latency => _latency ??= new LongHistogram(1, HighestMicros, PerSecondSignificantDigits);
    }
}
