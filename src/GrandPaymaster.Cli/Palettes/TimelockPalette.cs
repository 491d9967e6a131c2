using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace GrandPaymaster.Cli.Palettes;

/// <summary><c>gpm timelock list|schedule|cancel|execute</c>: critical changes wait for their eta before they can be executed.</summary>
public static class TimelockPalette
{
    public static Command Build(CommandKit kit)
    {
        var status = new Option<string?>("--status")
        {
            Description = "Only changes in this status: scheduled, cancelled, executed (all when left out)",
            HelpName = "status",
        }.AcceptOnlyFromAmong("scheduled", "cancelled", "executed", "all");
        var kind = new Argument<string>("kind")
        {
            Description = "What to change: chain.disable {chainId}, chain.enable {chainId}, dapp.surcharge {dappId, surchargeBps}, operator.grant",
        };
        var parameters = new Option<string[]>("--param", "-p")
        {
            Description = "A parameter of the change as name=value (repeat for each; numbers and true/false are sent as JSON numbers and booleans)",
            HelpName = "name=value",
        };
        var scheduleReason = CommandKit.ReasonOption();
        var cancelId = ChangeArgument();
        var cancelReason = CommandKit.ReasonOption();
        var executeId = ChangeArgument();
        var executeReason = CommandKit.ReasonOption(optional: true);

        return CommandKit.Group("timelock", "Timelocked critical changes: schedule, list, cancel, execute after the eta",
            kit.Leaf("list", "List timelocked changes: kind, parameters, status, eta, who scheduled them and why",
                ["gpm timelock list", "gpm timelock list --status scheduled"], [status],
                async (s, ct) => s.Show(await s.Node.GetAsync(AdminClient.Query("/admin/v1/timelock", ("status", s.Get(status))), ct),
                    changes => s.Output.Table(null, ["id", "kind", "params", "status", "eta", "scheduled by", "reason", "executed by"],
                        changes.Items("changes").Select(Row)))),
            kit.Leaf("schedule", "Schedule a critical change; it can be executed once its eta has passed (the delay depends on the kind)",
                ["gpm timelock schedule chain.disable --param chainId=31338 --reason \"chain sunset, ticket 12\"",
                 "gpm timelock schedule dapp.surcharge -p dappId=d-0123456789abcdef -p surchargeBps=2500 --reason \"contract renewal\""],
                [kind, parameters, scheduleReason],
                async (s, ct) =>
                {
                    var body = new { kind = s.Get(kind), @params = Params(s.Get(parameters) ?? []), reason = s.Reason(scheduleReason, $"scheduling {s.Get(kind)}") };
                    var answer = await s.Node.PostAsync("/admin/v1/timelock", body, ct);
                    return s.Show(answer, change =>
                    {
                        s.Output.Done($"Scheduled {change.Text("kind")} as {change.Text("id")}; it can be executed after {change.Text("eta")}.");
                        RenderChange(s.Output, change);
                    });
                }),
            kit.Leaf("cancel", "Cancel a scheduled change",
                ["gpm timelock cancel tl-42 --reason \"scheduled by mistake\""], [cancelId, cancelReason],
                async (s, ct) =>
                {
                    var reason = s.Reason(cancelReason, $"cancelling change {s.Get(cancelId)}");
                    var answer = await s.Node.DeleteAsync(AdminClient.Query($"/admin/v1/timelock/{AdminClient.Segment(s.Get(cancelId))}", ("reason", reason)), ct);
                    return s.Show(answer, change =>
                    {
                        s.Output.Done($"Change {change.Text("id")} is {change.Text("status")}.");
                        RenderChange(s.Output, change);
                    });
                }),
            kit.Leaf("execute", "Execute a scheduled change whose eta has passed (refused with timelock_not_ready before)",
                ["gpm timelock execute tl-42"], [executeId, executeReason],
                async (s, ct) =>
                {
                    var answer = await s.Node.PostAsync($"/admin/v1/timelock/{AdminClient.Segment(s.Get(executeId))}/execute", new { reason = s.Get(executeReason) }, ct);
                    return s.Show(answer, change =>
                    {
                        s.Output.Done($"Change {change.Text("id")} is {change.Text("status")}.");
                        RenderChange(s.Output, change);
                    });
                }));
    }

    private static Argument<string> ChangeArgument() => new("changeId") { Description = "The change's id (as 'gpm timelock list' shows it)" };

    private static string?[] Row(JsonElement c) =>
        [c.Text("id"), c.Text("kind"), Compact(c), c.Text("status"), c.Text("eta"), c.Text("scheduledBy"), c.Text("reason"), c.Text("executedBy")];

    private static string? Compact(JsonElement change) =>
        change.TryGetProperty("params", out var p) && p.ValueKind == JsonValueKind.Object
            ? string.Join(" ", p.EnumerateObject().Select(x => $"{x.Name}={JsonView.Format(x.Value)}"))
            : null;

    private static void RenderChange(Output output, JsonElement change) =>
        output.Fields(null, JsonView.Flatten(change));

    /// <summary><c>name=value</c> pairs as the change's params: integers and booleans as JSON numbers and booleans, the rest as strings.</summary>
    public static Dictionary<string, object> Params(IEnumerable<string> pairs)
    {
        var result = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=');
            if (equals <= 0) throw GpmException.Usage($"--param '{pair}' is not name=value.");
            var (name, value) = (pair[..equals].Trim(), pair[(equals + 1)..].Trim());
            result[name] = long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) ? number
                : bool.TryParse(value, out var flag) ? flag
                : value;
        }

        return result;
    }
}
