using System.Globalization;

namespace GrandPaymaster.LoadTest.Engine;

/// <summary>How the reports write numbers: invariant culture, so a report reads the same on every machine.</summary>
internal static class Figures
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Count(long value) => value.ToString("D", Invariant);

    public static string Ms(double value) => value.ToString("0.000", Invariant);

    public static string Percent(double ratio) => (ratio * 100).ToString("0.00", Invariant) + " %";

    public static string Rate(double perSecond) => perSecond.ToString("0.###", Invariant);

    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", Invariant) + " s";

    /// <summary>For SVG coordinates, where a decimal comma would corrupt the drawing.</summary>
    public static string Coordinate(double value) => value.ToString("0.#", Invariant);
}
