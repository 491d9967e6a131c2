using System.Globalization;
using System.Net;
using System.Text;

namespace GrandPaymaster.LoadTest.Engine;

/// <summary>
/// Writes scenario results as one self-contained HTML file: inline CSS and SVG charts only, no scripts,
/// stylesheets or fonts fetched from anywhere, so it opens the same offline.
/// </summary>
public static class HtmlReport
{
    private const string Style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1d1d1f;max-width:1100px}
        h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.5rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
        h3{font-size:1rem;margin:1.2rem 0 .4rem}
        table{border-collapse:collapse;margin:.4rem 0 1rem}
        th,td{padding:.3rem .7rem;border:1px solid #ddd;text-align:right}
        th{background:#f4f5f7}td.text,th.text{text-align:left}
        .muted{color:#666}.bad{color:#b3261e;font-weight:600}
        svg.chart{width:100%;max-width:760px;height:auto;display:block;margin:.5rem 0 1rem}
        .chart-title{font-size:14px;font-weight:600}.legend,.tick,.axis{font-size:11px;fill:#444}
        .grid{stroke:#e3e3e3;stroke-width:1}
        """;

    /// <summary>Writes the report to <paramref name="path"/>, creating its folder if needed.</summary>
    /// <param name="path">The HTML file to write; overwritten if it exists.</param>
    /// <param name="title">The page title.</param>
    /// <param name="results">One section per scenario.</param>
    /// <param name="notes">Free-form context shown at the top (machine, commit, server settings…).</param>
    public static void Write(
        string path, string title, IEnumerable<ScenarioStats> results, IReadOnlyDictionary<string, string>? notes = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(results);

        var html = Render(title, results.ToArray(), notes);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        File.WriteAllText(path, html, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }

    private static string Render(string title, IReadOnlyList<ScenarioStats> results, IReadOnlyDictionary<string, string>? notes)
    {
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        h.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        h.Append($"<title>{E(title)}</title>\n<style>{Style}</style>\n</head>\n<body>\n");
        h.Append($"<h1>{E(title)}</h1>\n");
        h.Append($"<p class=\"muted\">Generated {E(DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture))}. ");
        h.Append("Latency is measured from each request's scheduled start (coordinated omission corrected); ");
        h.Append("dropped and timed-out requests have no latency.</p>\n");

        if (notes is { Count: > 0 })
        {
            h.Append("<table>\n");
            foreach (var (key, value) in notes)
            {
                h.Append($"<tr><th class=\"text\">{E(key)}</th><td class=\"text\">{E(value)}</td></tr>\n");
            }

            h.Append("</table>\n");
        }

        if (results.Count == 0)
        {
            h.Append("<p>No scenarios were run.</p>\n");
        }
        else
        {
            AppendOverview(h, results);
            for (var i = 0; i < results.Count; i++)
            {
                AppendScenario(h, results[i], i);
            }
        }

        h.Append("</body>\n</html>\n");
        return h.ToString();
    }

    private static void AppendOverview(StringBuilder h, IReadOnlyList<ScenarioStats> results)
    {
        h.Append("<h2>Overview</h2>\n<table>\n<tr><th class=\"text\">scenario</th><th>rate /s</th><th>requests</th>");
        h.Append("<th>ok</th><th>failed</th><th>dropped</th><th>timed out</th><th>success</th><th>ok /s</th>");
        h.Append("<th>p50 ms</th><th>p99 ms</th><th>max ms</th></tr>\n");
        for (var i = 0; i < results.Count; i++)
        {
            var s = results[i];
            h.Append($"<tr><td class=\"text\"><a href=\"#scenario-{i}\">{E(s.ScenarioName)}</a></td>");
            h.Append($"<td>{E(Figures.Rate(s.Rate))}</td><td>{E(Figures.Count(s.Requests))}</td><td>{E(Figures.Count(s.Ok))}</td>");
            h.Append($"<td{Bad(s.Failed)}>{E(Figures.Count(s.Failed))}</td><td{Bad(s.Dropped)}>{E(Figures.Count(s.Dropped))}</td>");
            h.Append($"<td{Bad(s.TimedOut)}>{E(Figures.Count(s.TimedOut))}</td><td>{E(Figures.Percent(s.SuccessRatio))}</td>");
            h.Append($"<td>{E(Figures.Rate(s.Throughput))}</td><td>{LatencyCell(s, s.Latency.P50Ms)}</td>");
            h.Append($"<td>{LatencyCell(s, s.Latency.P99Ms)}</td><td>{LatencyCell(s, s.Latency.MaxMs)}</td></tr>\n");
        }

        h.Append("</table>\n");
    }

    private static void AppendScenario(StringBuilder h, ScenarioStats s, int index)
    {
        h.Append($"<section id=\"scenario-{index}\">\n<h2>{E(s.ScenarioName)}</h2>\n");
        h.Append($"<p class=\"muted\">rate {E(Figures.Rate(s.Rate))}/s, warm-up {E(Figures.Seconds(s.WarmUp))}, ");
        h.Append($"duration {E(Figures.Seconds(s.Duration))} (measured {E(Figures.Seconds(s.MeasuredDuration))}), ");
        h.Append($"max in flight {E(Figures.Count(s.MaxInFlight))}");
        h.Append(s.Cancelled ? ", <span class=\"bad\">cancelled before the end</span>" : "");
        h.Append("</p>\n");

        h.Append("<h3>Requests</h3>\n<table>\n<tr><th>requests</th><th>ok</th><th>failed</th><th>dropped</th><th>timed out</th><th>success</th><th>throughput ok/s</th></tr>\n");
        h.Append($"<tr><td>{E(Figures.Count(s.Requests))}</td><td>{E(Figures.Count(s.Ok))}</td>");
        h.Append($"<td{Bad(s.Failed)}>{E(Figures.Count(s.Failed))}</td><td{Bad(s.Dropped)}>{E(Figures.Count(s.Dropped))}</td>");
        h.Append($"<td{Bad(s.TimedOut)}>{E(Figures.Count(s.TimedOut))}</td><td>{E(Figures.Percent(s.SuccessRatio))}</td>");
        h.Append($"<td>{E(Figures.Rate(s.Throughput))}</td></tr>\n</table>\n");

        var l = s.Latency;
        h.Append("<h3>Latency (ms)</h3>\n<table>\n<tr><th>p50</th><th>p75</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th></tr>\n<tr>");
        foreach (var value in (double[])[l.P50Ms, l.P75Ms, l.P95Ms, l.P99Ms, l.P999Ms, l.MaxMs])
        {
            h.Append($"<td>{LatencyCell(s, value)}</td>");
        }

        h.Append("</tr>\n</table>\n");
        AppendErrors(h, s);
        AppendCharts(h, s);
        h.Append("</section>\n");
    }

    private static void AppendErrors(StringBuilder h, ScenarioStats s)
    {
        h.Append("<h3>Errors</h3>\n");
        if (s.Errors.Count == 0)
        {
            h.Append("<p class=\"muted\">No failed requests.</p>\n");
            return;
        }

        h.Append("<table>\n<tr><th class=\"text\">code</th><th>count</th><th>share of failures</th></tr>\n");
        foreach (var (code, count) in s.Errors)
        {
            var share = s.Failed == 0 ? 0 : (double)count / s.Failed;
            h.Append($"<tr><td class=\"text\">{E(code)}</td><td>{E(Figures.Count(count))}</td><td>{E(Figures.Percent(share))}</td></tr>\n");
        }

        h.Append("</table>\n");
    }

    private static void AppendCharts(StringBuilder h, ScenarioStats s)
    {
        var seconds = s.PerSecond;
        h.Append("<h3>Over time</h3>\n");
        h.Append(SvgChart.Line($"{s.ScenarioName}: latency per second", "ms",
        [
            new("p50", "#2b7bba", seconds.Select(x => x.P50Ms).ToArray()),
            new("p95", "#e69f00", seconds.Select(x => x.P95Ms).ToArray()),
            new("p99", "#c0392b", seconds.Select(x => x.P99Ms).ToArray()),
        ]));
        h.Append('\n');
        h.Append(SvgChart.Line($"{s.ScenarioName}: requests per second", "requests / s",
        [
            new("started", "#7f8c8d", seconds.Select(x => (double?)x.Started).ToArray()),
            new("ok", "#27ae60", seconds.Select(x => (double?)x.Ok).ToArray()),
            new("failed", "#c0392b", seconds.Select(x => (double?)x.Failed).ToArray()),
            new("dropped", "#8e44ad", seconds.Select(x => (double?)x.Dropped).ToArray()),
        ]));
        h.Append('\n');
    }

    private static string LatencyCell(ScenarioStats s, double ms) => s.Completed == 0 ? "-" : E(Figures.Ms(ms));

    private static string Bad(long count) => count > 0 ? " class=\"bad\"" : "";

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
