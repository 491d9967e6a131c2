using GrandPaymaster.Domain.Slo;

namespace GrandPaymaster.Domain.Tests.Slo;

/// <summary>SLO window math on an injected clock: bucketed counts, burn rates, budget, the multiwindow fast-burn rule and the bounds.</summary>
public sealed class SloBookTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 3, 0, 30, TimeSpan.Zero);

    private static void Record(SloBook book, string slo, int good, int bad, DateTimeOffset at)
    {
        for (var i = 0; i < good; i++) book.Record(slo, true, at);
        for (var i = 0; i < bad; i++) book.Record(slo, false, at);
    }

    private static SloReport Of(SloBook book, string slo, DateTimeOffset now) => book.Report(now).Single(r => r.Definition.Name == slo);

    [Fact]
    public void Burn_rate_is_the_bad_fraction_over_the_error_budget_and_the_budget_left_is_one_minus_it()
    {
        var book = new SloBook();
        Record(book, SloBook.Availability, 990, 10, T0);
        var report = Of(book, SloBook.Availability, T0);

        var hour = report.Windows[SloBook.Hour];
        Assert.Equal(0.99, hour.Sli!.Value, 9);
        Assert.Equal(2.0, report.BurnRate(SloBook.Hour)!.Value, 9);   // 1 % bad against a 0.5 % budget
        Assert.Equal(-1.0, hour.BudgetRemaining(0.005)!.Value, 9);
        Assert.Equal("exhausted", report.Status);
    }

    [Fact]
    public void Windows_forget_events_older_than_themselves()
    {
        var book = new SloBook();
        Record(book, SloBook.QuoteLatency, 0, 30, T0);
        Record(book, SloBook.QuoteLatency, 100, 0, T0.AddHours(2));
        var report = Of(book, SloBook.QuoteLatency, T0.AddHours(2));

        Assert.Equal(100, report.Windows[SloBook.Hour].Total);
        Assert.Equal(0, report.BurnRate(SloBook.Hour));
        Assert.Equal(130, report.Windows[SloBook.SixHours].Total);
        Assert.Equal(130, report.Windows[SloBook.ThirtyDays].Total);
        // 31 days later the month has forgotten both.
        Assert.Equal(0, Of(book, SloBook.QuoteLatency, T0.AddDays(31)).Windows[SloBook.ThirtyDays].Total);
        Assert.Equal("no_data", Of(book, SloBook.QuoteLatency, T0.AddDays(31)).Status);
    }

    [Fact]
    public void A_ring_bucket_reused_after_its_span_starts_from_zero()
    {
        var counter = new BucketedCounter(TimeSpan.FromMinutes(1), 60);
        counter.Add(T0, 5, 5);
        counter.Add(T0.AddHours(1), 1, 2); // same slot, an hour later
        Assert.Equal((1, 2), counter.Sum(T0.AddHours(1), TimeSpan.FromHours(1)));
        counter.Add(T0, 7, 7); // older than the ring keeps: ignored
        Assert.Equal((1, 2), counter.Sum(T0.AddHours(1), TimeSpan.FromHours(1)));
    }

    [Fact]
    public void A_short_spike_above_the_fast_burn_rate_in_both_the_hour_and_the_last_five_minutes_is_a_fast_burn()
    {
        var book = new SloBook();
        Record(book, SloBook.Availability, 300, 0, T0.AddMinutes(-50));
        Record(book, SloBook.Availability, 50, 50, T0); // the last minute: half fail
        var report = Of(book, SloBook.Availability, T0);

        Assert.Equal(25, report.BurnRate(SloBook.Hour)!.Value, 9); // 12.5 % bad against a 0.5 % budget
        Assert.Equal(100, report.BurnRate(SloBook.FiveMinutes)!.Value, 9);
        Assert.True(report.FastBurn);
        Assert.Equal("exhausted", report.Status); // everything this node has seen spends the month's budget 25 times
    }

    [Fact]
    public void An_old_spike_no_longer_in_the_short_window_is_not_a_fast_burn_any_more()
    {
        var book = new SloBook();
        Record(book, SloBook.Availability, 50, 50, T0);
        Record(book, SloBook.Availability, 500, 0, T0.AddMinutes(40));
        var report = Of(book, SloBook.Availability, T0.AddMinutes(40));

        Assert.True(report.BurnRate(SloBook.Hour) > 14.4);
        Assert.True(report.BurnRate(SloBook.SixHours) > 6);
        Assert.Equal(0, report.BurnRate(SloBook.FiveMinutes));
        Assert.Equal(0, report.BurnRate(SloBook.HalfHour));
        Assert.False(report.FastBurn); // each long window's short partner says the burn has stopped
    }

    [Fact]
    public void Too_few_events_never_make_a_fast_burn()
    {
        var book = new SloBook(rule: new BurnRule(MinEvents: 20));
        Record(book, SloBook.Availability, 0, 5, T0);
        Assert.False(Of(book, SloBook.Availability, T0).FastBurn);
        Assert.Equal("ok", Of(book, SloBook.Availability, T0).Status); // too few for exhausted too
    }

    [Fact]
    public void The_rebalance_slo_reports_no_data_until_the_orchestrator_feeds_it()
    {
        var report = Of(new SloBook(), SloBook.RebalanceSuccess, T0);
        Assert.Equal("no_data", report.Status);
        Assert.Null(report.Windows[SloBook.ThirtyDays].Sli);
        Assert.Null(report.BurnRate(SloBook.Hour));
    }

    [Fact]
    public void Unknown_slo_names_are_ignored_so_the_set_stays_fixed()
    {
        var book = new SloBook();
        book.Record("made-up", true, T0);
        Assert.Equal(4, book.Report(T0).Length);
    }
}
