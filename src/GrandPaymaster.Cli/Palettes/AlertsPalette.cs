using System.CommandLine;
using System.Text.Json;

namespace GrandPaymaster.Cli.Palettes;

/// <summary><c>gpm alerts list|ack|watch</c>: stored, de-duplicated alerts; acknowledging; the live stream (SSE).</summary>
public static class AlertsPalette
{
    public static Command Build(CommandKit kit)
    {
        var state = new Option<string?>("--state")
        {
            Description = "Only alerts in this state: open, acknowledged, resolved, all (the node's default when left out)",
            HelpName = "state",
        }.AcceptOnlyFromAmong("open", "acknowledged", "resolved", "all");
        var ackId = new Argument<string>("alertId") { Description = "The alert's id (as 'gpm alerts list' shows it)" };
        var ackReason = CommandKit.ReasonOption(optional: true);
        var max = new Option<int?>("--max")
        {
            Description = "Stop after this many events (default: until Ctrl-C or the node closes the stream)",
            HelpName = "count",
        };

        return CommandKit.Group("alerts", "Alerts: list, acknowledge, watch live",
            kit.Leaf("list", "List alerts: severity, kind, subject, summary, state, how often and when last raised",
                ["gpm alerts list", "gpm alerts list --state all --json"], [state],
                async (s, ct) => s.Show(await s.Node.GetAsync(AdminClient.Query("/admin/v1/alerts", ("state", s.Get(state))), ct),
                    alerts => s.Output.Table(null, ["id", "severity", "kind", "subject", "summary", "state", "count", "last", "acknowledged by"],
                        alerts.Items("alerts").Select(a => new[]
                        {
                            a.Text("id"), a.Text("severity"), a.Text("kind"), a.Text("subject"), a.Text("summary"), a.Text("state"), a.Text("count"),
                            a.Text("lastAt"), a.Text("acknowledgedBy"),
                        })))),
            kit.Leaf("ack", "Acknowledge an alert: you are on it (it stays listed until resolved)",
                ["gpm alerts ack al-7 --reason \"looking into the RPC provider\""], [ackId, ackReason],
                async (s, ct) =>
                {
                    var answer = await s.Node.PostAsync($"/admin/v1/alerts/{AdminClient.Segment(s.Get(ackId))}/ack", new { reason = s.Get(ackReason) }, ct);
                    return s.Show(answer, alert =>
                    {
                        s.Output.Done($"Alert {alert.Text("id")} is {alert.Text("state")}.");
                        s.Output.Fields(null, JsonView.Flatten(alert));
                    });
                }),
            kit.Leaf("watch", "Print alerts as they are raised, repeated, acknowledged or resolved (server-sent events), until Ctrl-C",
                ["gpm alerts watch", "gpm alerts watch --json | jq -c 'select(.severity == \"critical\")'"], [max],
                (s, ct) => WatchAsync(s, s.Get(max), ct)));
    }

    private static async Task<int> WatchAsync(Session s, int? max, CancellationToken ct)
    {
        var seen = 0;
        try
        {
            await foreach (var sse in s.Node.StreamAsync("/admin/v1/alerts/stream", ct))
            {
                if (s.Output.Json) s.Output.WriteJsonLine(sse.Data);
                else s.Output.Line(Describe(sse), Severity(sse.Data));
                if (++seen >= max) return ExitCodes.Ok;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }

        throw GpmException.Unreachable("The node closed the alert stream.");
    }

    private static string Describe(ServerSentEvent sse)
    {
        try
        {
            using var document = JsonDocument.Parse(sse.Data);
            var a = document.RootElement;
            return $"{a.Text("lastAt") ?? "-"}  {a.Text("severity"),-8}  {a.Text("state"),-12}  {a.Text("kind")}  {a.Text("subject")}: {a.Text("summary")}"
                   + (a.Text("count") is { } count && count != "1" ? $"  (x{count})" : "");
        }
        catch (JsonException)
        {
            return $"{sse.Event}: {sse.Data}";
        }
    }

    private static string? Severity(string data)
    {
        try
        {
            using var document = JsonDocument.Parse(data);
            return document.RootElement.Text("severity") switch { "critical" => "critical", "warning" => "warning", _ => null };
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
