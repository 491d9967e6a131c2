using System.CommandLine;
using System.Text.Json;

namespace GrandPaymaster.Cli.Palettes;

/// <summary><c>gpm slo</c>: the service level objectives and their error-budget burn over 1 h, 6 h and 30 d.</summary>
public static class SloPalette
{
    private static readonly string[] Windows = ["1h", "6h", "30d"];

    public static Command Build(CommandKit kit) =>
        kit.Leaf("slo", "Show the SLOs (availability, quote p95, transaction and rebalance success): SLI, burn rate and budget left per window",
            ["gpm slo", "gpm slo --json | jq '.slos[] | select(.status != \"ok\")'"], [],
            async (s, ct) => s.Show(await s.Node.GetAsync("/admin/v1/slo", ct), slos => s.Output.Table(null,
                ["slo", "objective", "status", .. Windows.SelectMany(w => new[] { $"sli {w}", $"burn {w}", $"budget {w}" })],
                slos.Items("slos").Select(Row))));

    private static string?[] Row(JsonElement slo) =>
    [
        slo.Text("name"), slo.Text("objective"), slo.Text("status"),
        .. Windows.SelectMany(w => new[] { Window(slo, w, "sli"), Window(slo, w, "burnRate"), Window(slo, w, "budgetRemaining") }),
    ];

    private static string? Window(JsonElement slo, string window, string field) =>
        slo.TryGetProperty("windows", out var windows) && windows.ValueKind == JsonValueKind.Object && windows.TryGetProperty(window, out var w)
            ? w.Text(field)
            : null;
}
