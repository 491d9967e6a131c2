using System.Net;
using System.Text;

namespace GrandPaymaster.LoadTest.Engine;

/// <summary>One line of a chart; a null value leaves a gap rather than pretending it was zero.</summary>
internal sealed record ChartSeries(string Name, string Color, IReadOnlyList<double?> Values);

/// <summary>Draws a per-second line chart as inline SVG, so the report needs no script or network.</summary>
internal static class SvgChart
{
    private const double Width = 760, Height = 270;
    private const double Left = 60, Right = 16, Top = 34, Bottom = 40;
    private const double PlotWidth = Width - Left - Right, PlotHeight = Height - Top - Bottom;
    private const int GridLines = 5;
    private const int MaxXLabels = 12;

    public static string Line(string title, string yUnit, IReadOnlyList<ChartSeries> series)
    {
        var points = series.Count == 0 ? 0 : series.Max(s => s.Values.Count);
        var yMax = NiceCeiling(series.SelectMany(s => s.Values).Select(v => v ?? 0).DefaultIfEmpty(0).Max());

        var svg = new StringBuilder();
        svg.Append($"""<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {C(Width)} {C(Height)}" role="img" aria-label="{Encode(title)}">""");
        svg.Append($"<title>{Encode(title)}</title>");
        svg.Append($"""<text x="{C(Left)}" y="16" class="chart-title">{Encode(title)}</text>""");
        AppendLegend(svg, series);
        AppendYAxis(svg, yMax, yUnit);
        AppendXAxis(svg, points);

        foreach (var s in series)
        {
            AppendSeries(svg, s, points, yMax);
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    private static void AppendLegend(StringBuilder svg, IReadOnlyList<ChartSeries> series)
    {
        var x = Width - Right;
        foreach (var s in series.Reverse())
        {
            // Rough text width: keeps entries from overlapping without measuring fonts.
            x -= 26 + (s.Name.Length * 7);
            svg.Append($"""<rect x="{C(x)}" y="8" width="12" height="12" fill="{Encode(s.Color)}"/>""");
            svg.Append($"""<text x="{C(x + 16)}" y="18" class="legend">{Encode(s.Name)}</text>""");
        }
    }

    private static void AppendYAxis(StringBuilder svg, double yMax, string yUnit)
    {
        for (var i = 0; i <= GridLines; i++)
        {
            var value = yMax * i / GridLines;
            var y = Y(value, yMax);
            svg.Append($"""<line x1="{C(Left)}" y1="{C(y)}" x2="{C(Width - Right)}" y2="{C(y)}" class="grid"/>""");
            svg.Append($"""<text x="{C(Left - 6)}" y="{C(y + 4)}" text-anchor="end" class="tick">{Encode(Figures.Rate(value))}</text>""");
        }

        svg.Append($"""<text x="14" y="{C(Top + (PlotHeight / 2))}" transform="rotate(-90 14 {C(Top + (PlotHeight / 2))})" text-anchor="middle" class="axis">{Encode(yUnit)}</text>""");
    }

    private static void AppendXAxis(StringBuilder svg, int points)
    {
        var step = Math.Max(1, (int)Math.Ceiling(points / (double)MaxXLabels));
        for (var i = 0; i < points; i += step)
        {
            svg.Append($"""<text x="{C(X(i, points))}" y="{C(Height - Bottom + 16)}" text-anchor="middle" class="tick">{i}</text>""");
        }

        svg.Append($"""<text x="{C(Left + (PlotWidth / 2))}" y="{C(Height - 6)}" text-anchor="middle" class="axis">second of the measured period</text>""");
    }

    private static void AppendSeries(StringBuilder svg, ChartSeries series, int points, double yMax)
    {
        var color = Encode(series.Color);
        var segment = new List<string>();
        void Flush()
        {
            if (segment.Count > 1)
            {
                svg.Append($"""<polyline fill="none" stroke="{color}" stroke-width="2" points="{string.Join(' ', segment)}"/>""");
            }

            segment.Clear();
        }

        for (var i = 0; i < series.Values.Count; i++)
        {
            if (series.Values[i] is not { } value)
            {
                Flush();
                continue;
            }

            var (x, y) = (C(X(i, points)), C(Y(value, yMax)));
            segment.Add($"{x},{y}");
            svg.Append($"""<circle cx="{x}" cy="{y}" r="2.5" fill="{color}"><title>{Encode($"{series.Name} s{i}: {Figures.Rate(value)}")}</title></circle>""");
        }

        Flush();
    }

    private static double X(int index, int points) =>
        points <= 1 ? Left + (PlotWidth / 2) : Left + (PlotWidth * index / (points - 1));

    private static double Y(double value, double yMax) => Top + PlotHeight - (PlotHeight * value / yMax);

    /// <summary>The smallest 1, 2, 2.5 or 5 × 10^n at or above <paramref name="value"/>, so grid labels stay round.</summary>
    private static double NiceCeiling(double value)
    {
        if (!(value > 0))
        {
            return 1;
        }

        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var m in (double[])[1, 2, 2.5, 5, 10])
        {
            if (m * magnitude >= value)
            {
                return m * magnitude;
            }
        }

        return 10 * magnitude;
    }

    private static string C(double value) => Figures.Coordinate(value);

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
