using System.Globalization;
using System.Text.RegularExpressions;
using GrandPaymaster.LoadTest.Engine;

namespace GrandPaymaster.LoadTest.Tests;

public sealed class ReportTests : IDisposable
{
    private const string HostileName = "<script>alert('x')</script> & checkout";

    private readonly CultureInfo _originalCulture = CultureInfo.CurrentCulture;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gp-loadtest-" + Guid.NewGuid().ToString("N"));

    public ReportTests() =>
        // A decimal-comma culture: every figure must still come out with a point.
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");

    public void Dispose()
    {
        CultureInfo.CurrentCulture = _originalCulture;
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void The_text_report_shows_the_p99_figure_and_error_codes_in_invariant_culture()
    {
        var writer = new StringWriter();

        TextReport.Write(writer, [Sample("transfers")]);

        var text = writer.ToString();
        Assert.Contains("== transfers ==", text);
        Assert.Contains("p99", text);
        Assert.Contains("123.456", text);
        Assert.DoesNotContain("123,456", text);
        Assert.Contains("error HTTP 503: 7", text);
        Assert.Contains("98.50 %", text);
    }

    [Fact]
    public void The_html_report_is_written_with_the_scenario_name_encoded_and_svg_charts()
    {
        var path = Path.Combine(_folder, "nested", "report.html");

        HtmlReport.Write(path, "Run <1>", [Sample(HostileName)], new Dictionary<string, string> { ["commit"] = "<b>abc</b>" });

        var html = File.ReadAllText(path);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; checkout", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Run &lt;1&gt;", html);
        Assert.Contains("&lt;b&gt;abc&lt;/b&gt;", html);
        Assert.Contains("<svg", html);
        Assert.Contains("HTTP 503", html);
        Assert.Contains("123.456", html);
    }

    [Fact]
    public void The_html_report_loads_nothing_from_outside_the_file()
    {
        var path = Path.Combine(_folder, "report.html");

        HtmlReport.Write(path, "offline", [Sample("a"), Sample("b")]);

        var html = File.ReadAllText(path);
        Assert.DoesNotContain("<link", html);
        Assert.DoesNotContain(" src=", html);
        Assert.DoesNotContain("url(", html);
        Assert.DoesNotContain("@import", html);
    }

    [Fact]
    public void Svg_coordinates_use_a_decimal_point_even_under_a_decimal_comma_culture()
    {
        var path = Path.Combine(_folder, "report.html");

        HtmlReport.Write(path, "coordinates", [Sample("a")]);

        var pointLists = Regex.Matches(File.ReadAllText(path), "points=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToArray();
        Assert.NotEmpty(pointLists);
        var pairs = pointLists.SelectMany(p => p.Split(' ')).ToArray();
        Assert.All(pairs, pair => Assert.Matches(@"^-?\d+(\.\d+)?,-?\d+(\.\d+)?$", pair));
    }

    private static ScenarioStats Sample(string name) => new()
    {
        ScenarioName = name,
        Rate = 200,
        WarmUp = TimeSpan.FromSeconds(1),
        Duration = TimeSpan.FromSeconds(3),
        MaxInFlight = 100,
        MeasuredDuration = TimeSpan.FromSeconds(3),
        Requests = 600,
        Ok = 591,
        Failed = 7,
        Dropped = 2,
        TimedOut = 0,
        Latency = new LatencyPercentiles(1.5, 2.25, 40.125, 123.456, 250.5, 301.75),
        Errors = [new("HTTP 503", 7)],
        PerSecond =
        [
            new SecondStats(0, 200, 198, 2, 0, 1.25, 30.5, 99.75),
            new SecondStats(1, 199, 196, 3, 1, 1.5, 41.5, 130.25),
            new SecondStats(2, 199, 197, 2, 1, 1.75, 45.5, 120.5),
        ],
    };
}
