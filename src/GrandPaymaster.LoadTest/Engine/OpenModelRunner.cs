namespace GrandPaymaster.LoadTest.Engine;

/// <summary>
/// Runs a <see cref="Scenario"/> as an open model: request <c>i</c> is due at <c>start + i / Rate</c>,
/// whether or not earlier requests have completed, and its latency is measured from that due time.
/// </summary>
/// <remarks>
/// Measuring from the due time corrects coordinated omission: if the injector falls behind (GC pause,
/// starved CPU), the requests it sends late carry that delay in their latency instead of hiding it.
/// The run stops by itself after warm-up plus duration, then waits at most <see cref="Scenario.DrainTimeout"/>.
/// Cancelling <c>cancellationToken</c> stops injection early; the requests recorded so far are still returned,
/// with <see cref="ScenarioStats.Cancelled"/> set.
/// </remarks>
public static class OpenModelRunner
{
    /// <summary>Runs <paramref name="scenario"/> on the system clock.</summary>
    public static Task<ScenarioStats> RunAsync(Scenario scenario, CancellationToken cancellationToken = default) =>
        RunAsync(scenario, TimeProvider.System, cancellationToken);

    /// <summary>Runs <paramref name="scenario"/>, reading time from <paramref name="timeProvider"/>'s timestamps.</summary>
    public static Task<ScenarioStats> RunAsync(
        Scenario scenario, TimeProvider timeProvider, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(timeProvider);
        return new ScheduledRun(scenario, timeProvider).ExecuteAsync(cancellationToken);
    }

    private sealed class ScheduledRun(Scenario scenario, TimeProvider clock)
    {
        private readonly TaskCompletionSource _allCompleted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly long _frequency = clock.TimestampFrequency;
        private CancellationToken _stepToken;
        private RunRecorder _recorder = null!;

        // Outstanding requests plus one held by the injector, so reaching zero means "all sent and all done".
        private long _pending = 1;

        public async Task<ScenarioStats> ExecuteAsync(CancellationToken cancellationToken)
        {
            var stepCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _stepToken = stepCancellation.Token;

            var start = clock.GetTimestamp();
            var measureStart = start + ToTicks(scenario.WarmUp);
            _recorder = new RunRecorder(measureStart, _frequency, scenario.Duration);

            var finished = await Task.Factory.StartNew(
                () => Inject(start, cancellationToken),
                CancellationToken.None,
                TaskCreationOptions.LongRunning, // a dedicated thread: a starved thread pool must not delay the schedule
                TaskScheduler.Default).ConfigureAwait(false);

            // Requests were scheduled over the whole duration even though the last one is due slightly before its end.
            var measured = finished ? scenario.Duration : MeasuredSoFar(measureStart);

            ReleaseOne();
            await Task.WhenAny(_allCompleted.Task, Task.Delay(scenario.DrainTimeout, clock)).ConfigureAwait(false);
            _recorder.Seal();
            stepCancellation.Cancel();

            // Abandoned steps may still hold the token; dispose the source only once they are all gone.
            _ = _allCompleted.Task.ContinueWith(
                static (_, cts) => ((CancellationTokenSource)cts!).Dispose(),
                stepCancellation,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);

            return _recorder.ToStats(scenario, measured, cancelled: !finished);
        }

        private TimeSpan MeasuredSoFar(long measureStart)
        {
            var elapsed = clock.GetElapsedTime(measureStart);
            return elapsed < TimeSpan.Zero ? TimeSpan.Zero : elapsed > scenario.Duration ? scenario.Duration : elapsed;
        }

        /// <summary>The scheduling loop; returns false when cancelled before the last request was due.</summary>
        private bool Inject(long start, CancellationToken cancellationToken)
        {
            var warmUpSlots = SlotsWithin(scenario.WarmUp);
            var totalSlots = SlotsWithin(scenario.WarmUp + scenario.Duration);

            // Spinning gives sub-millisecond precision but burns CPU next to the server under test, so it is
            // limited to a tenth of the interval; the rest of each wait sleeps. Any lateness that causes is
            // measured as latency anyway, because latency starts at the due time.
            var interval = _frequency / scenario.Rate;
            var spinWindow = (long)Math.Min(_frequency / 1000.0, interval / 10);

            for (long i = 0; i < totalSlots; i++)
            {
                var due = start + (long)Math.Round(i * interval);
                if (!WaitUntil(due, spinWindow, cancellationToken))
                {
                    return false;
                }

                var measured = i >= warmUpSlots;

                // Only this thread adds to _pending, so the check cannot be overtaken by another start.
                if (Volatile.Read(ref _pending) - 1 >= scenario.MaxInFlight)
                {
                    if (measured)
                    {
                        _recorder.RecordDropped(due);
                    }

                    continue;
                }

                Interlocked.Increment(ref _pending);
                if (measured)
                {
                    _recorder.RecordStarted(due);
                }

                var sequence = i;
                _ = Task.Run(() => ExecuteStepAsync(sequence, due, measured), CancellationToken.None);
            }

            return true;
        }

        private bool WaitUntil(long due, long spinWindow, CancellationToken cancellationToken)
        {
            var spinner = new SpinWait();
            while (!cancellationToken.IsCancellationRequested)
            {
                var remaining = due - clock.GetTimestamp();
                if (remaining <= 0)
                {
                    return true;
                }

                if (remaining <= spinWindow)
                {
                    spinner.SpinOnce(sleep1Threshold: -1); // -1: never Sleep(1), which would overshoot the window
                    continue;
                }

                var sleepMs = Math.Max(1, (remaining - spinWindow) * 1000 / _frequency);
                cancellationToken.WaitHandle.WaitOne((int)Math.Min(sleepMs, int.MaxValue));
            }

            return false;
        }

        private async Task ExecuteStepAsync(long sequence, long due, bool measured)
        {
            try
            {
                StepResult result;
                try
                {
                    result = await scenario.Step(sequence, _stepToken).ConfigureAwait(false)
                        ?? throw new InvalidOperationException("The step returned a null result.");
                }
                catch (Exception ex)
                {
                    result = StepResult.Fail(ex.GetType().Name);
                }

                if (measured)
                {
                    _recorder.RecordCompleted(due, clock.GetElapsedTime(due), result);
                }
            }
            finally
            {
                ReleaseOne();
            }
        }

        private void ReleaseOne()
        {
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                _allCompleted.TrySetResult();
            }
        }

        private long SlotsWithin(TimeSpan span) =>
            (long)Math.Max(0, Math.Ceiling(span.TotalSeconds * scenario.Rate - 1e-9)); // 1e-9: 2 s × 200/s is 400, not 401

        private long ToTicks(TimeSpan span) => (long)Math.Round(span.TotalSeconds * _frequency);
    }
}
