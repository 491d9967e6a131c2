using System.CommandLine;
using System.Text.Json;

namespace GrandPaymaster.Cli.Palettes;

/// <summary><c>gpm audit tail|verify</c>: the tamper-evident journal: query it, and walk its hash chains and signed checkpoints.</summary>
public static class AuditPalette
{
    public static Command Build(CommandKit kit)
    {
        var actor = Filter("--actor", "Only events by this actor (e.g. operator:alice, dapp:d-…)", "actor");
        var entity = Filter("--entity", "Only events of this entity (its persistence id)", "persistenceId");
        var type = Filter("--type", "Only events of this type (its manifest, e.g. pool.evt.mode-changed)", "type");
        var from = Filter("--from", "Only events at or after this time (ISO-8601, UTC)", "time");
        var to = Filter("--to", "Only events before this time (ISO-8601, UTC)", "time");
        var after = Filter("--after", "Continue after this cursor (the 'next' of the previous page)", "cursor");
        var limit = new Option<int>("--limit", "-n")
        {
            Description = "At most this many events",
            HelpName = "count",
            DefaultValueFactory = _ => 20,
        };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 1000) result.AddError("--limit must be between 1 and 1000.");
        });

        return CommandKit.Group("audit", "The audit log: every event with who, when, why and its hash chain; verification",
            kit.Leaf("tail", "Show audit events (who, what, why, hash), filtered by actor, entity, type and time",
                ["gpm audit tail", "gpm audit tail --actor operator:alice --from 2025-01-31T00:00:00Z -n 100", "gpm audit tail --entity pool-31337 --json"],
                [actor, entity, type, from, to, limit, after],
                async (s, ct) =>
                {
                    var path = AdminClient.Query("/admin/v1/audit", ("actor", s.Get(actor)), ("entity", s.Get(entity)), ("type", s.Get(type)),
                        ("from", s.Get(from)), ("to", s.Get(to)), ("limit", s.Get(limit).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                        ("after", s.Get(after)));
                    return s.Show(await s.Node.GetAsync(path, ct), page =>
                    {
                        s.Output.Table(null, ["at", "actor", "entity", "seq", "type", "reason", "hash"],
                            page.Items("events").Select(e => new[]
                            {
                                e.Text("at"), e.Text("actor"), e.Text("persistenceId"), e.Text("sequenceNr"), e.Text("type"), e.Text("reason"),
                                e.Text("hash") is { Length: > 12 } hash ? hash[..12] + "…" : e.Text("hash"),
                            }));
                        if (page.Text("next") is { } next) s.Output.Line($"more: gpm audit tail --after {next}");
                    });
                }),
            kit.Leaf("verify", "Walk every entity's hash chain and the signed checkpoints; exit code 4 and the first bad event when anything was changed",
                ["gpm audit verify", "gpm audit verify --json || echo \"journal tampered\""], [],
                VerifyAsync));
    }

    private static Option<string?> Filter(string name, string description, string helpName) => new(name) { Description = description, HelpName = helpName };

    private static async Task<int> VerifyAsync(Session s, CancellationToken ct)
    {
        var answer = await s.Node.GetAsync("/admin/v1/audit/verify", ct);
        var ok = answer.Json.ValueKind == JsonValueKind.Object && answer.Json.TryGetProperty("ok", out var flag) && flag.ValueKind == JsonValueKind.True;
        s.Show(answer, result =>
        {
            if (ok)
                s.Output.Done($"Audit log intact: {result.Text("events")} events in {result.Text("entities")} entities, {result.Text("checkpoints")} checkpoints verified.");
            else
            {
                s.Output.Line($"TAMPERED: {result.Text("firstBad.persistenceId")} #{result.Text("firstBad.sequenceNr")}: {result.Text("firstBad.problem")}", "tampered");
                s.Output.Fields(null, JsonView.Flatten(result));
            }
        });
        return ok ? ExitCodes.Ok : ExitCodes.Tampered;
    }
}
