using System.CommandLine;
using System.Text.Json;

namespace GrandPaymaster.Cli.Palettes;

/// <summary><c>gpm dapp list|show|freeze|unfreeze|policy</c>: the dApps, their balances, freezes and policy.</summary>
public static class DappPalette
{
    private static readonly string[] Tokens = ["USDT", "VCN"];

    public static Command Build(CommandKit kit)
    {
        var showId = DappArgument();
        var freezeId = DappArgument();
        var unfreezeId = DappArgument();
        var policyId = DappArgument();
        var freezeReason = CommandKit.ReasonOption();
        var unfreezeReason = CommandKit.ReasonOption();
        var policyReason = CommandKit.ReasonOption();
        var policyFile = new Option<string?>("--set")
        {
            Description = "Replace the operator's policy with this JSON file ('-' reads standard input): "
                          + "{limits?, allowedChains?, allowedTargets?, surchargeBps?, quotesPerSecond?}; needs --reason",
            HelpName = "file",
        };

        return CommandKit.Group("dapp", "dApps: status, balances, freeze and unfreeze, policy",
            kit.Leaf("list", "List the registered dApps (GET /admin/v1/dapps)",
                ["gpm dapp list", "gpm dapp list --json | jq -r '.dapps[].dappId'"], [],
                ListAsync),
            kit.Leaf("show", "Show a dApp: status (active, throttled, frozen and why), surcharge, open holds, balances per token, direct-call targets",
                ["gpm dapp show d-0123456789abcdef"], [showId],
                async (s, ct) => s.Show(await s.Node.GetAsync($"/admin/v1/dapps/{AdminClient.Segment(s.Get(showId))}", ct), d => RenderDapp(s.Output, d))),
            kit.Leaf("freeze", "Freeze a dApp at once: its quotes and executions are refused with dapp_frozen until an operator unfreezes it",
                ["gpm dapp freeze d-0123456789abcdef --reason \"abuse report AB-7\""], [freezeId, freezeReason],
                (s, ct) => FreezeAsync(s, s.Get(freezeId), freeze: true, s.Reason(freezeReason, $"freezing dApp {s.Get(freezeId)}"), ct)),
            kit.Leaf("unfreeze", "Unfreeze a dApp (whatever froze it: an operator or a rule)",
                ["gpm dapp unfreeze d-0123456789abcdef --reason \"AB-7 cleared\""], [unfreezeId, unfreezeReason],
                (s, ct) => FreezeAsync(s, s.Get(unfreezeId), freeze: false, s.Reason(unfreezeReason, $"unfreezing dApp {s.Get(unfreezeId)}"), ct)),
            kit.Leaf("policy", "Show a dApp's policy (limits per token: the operator's, the dApp's own, the effective ones; chains, targets, rate), or replace it with --set",
                ["gpm dapp policy d-0123456789abcdef", "gpm dapp policy d-0123456789abcdef --set policy.json --reason \"raise daily cap, ticket 88\""],
                [policyId, policyFile, policyReason],
                (s, ct) => PolicyAsync(s, s.Get(policyId), s.Get(policyFile), policyReason, kit.Environment, ct)));
    }

    private static Argument<string> DappArgument() => new("dappId") { Description = "The dApp's id (d-… as registration answered)" };

    private static async Task<int> ListAsync(Session s, CancellationToken ct)
    {
        NodeAnswer answer;
        try
        {
            answer = await s.Node.GetAsync("/admin/v1/dapps", ct);
        }
        catch (GpmException e) when (e.RouteMissing)
        {
            throw new GpmException(e.ExitCode, e.Code, "This node has no dApp list route (GET /admin/v1/dapps).", e.Status)
            {
                Hint = "Look a dApp up by id with 'gpm dapp show <dappId>'.",
            };
        }

        return s.Show(answer, dapps => s.Output.Table(null, ["dApp", "name", "status", "surcharge bps", "registered", "open holds"],
            dapps.Items("dapps").Select(d => new[]
            {
                d.Text("dappId"), d.Text("name"), d.Text("status"), d.Text("surchargeBps"), d.Text("registeredAt"), d.Text("openHolds"),
            })));
    }

    private static async Task<int> FreezeAsync(Session s, string dappId, bool freeze, string reason, CancellationToken ct)
    {
        var answer = await s.Node.PostAsync($"/admin/v1/dapps/{AdminClient.Segment(dappId)}/{(freeze ? "freeze" : "unfreeze")}", new { reason }, ct);
        return s.Show(answer, dapp =>
        {
            s.Output.Done($"dApp {dappId} is {dapp.Text("status")}.");
            RenderDapp(s.Output, dapp);
        });
    }

    private static async Task<int> PolicyAsync(Session s, string dappId, string? file, Option<string?> reasonOption, CliEnvironment env, CancellationToken ct)
    {
        var path = $"/admin/v1/dapps/{AdminClient.Segment(dappId)}/policy";
        if (file is null) return s.Show(await s.Node.GetAsync(path, ct), p => RenderPolicy(s.Output, p));

        var reason = s.Reason(reasonOption, $"changing the policy of dApp {dappId}");
        string text;
        try
        {
            text = file == "-" ? await env.In.ReadToEndAsync(ct) : await File.ReadAllTextAsync(file, ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw GpmException.Usage($"Cannot read the policy file '{file}': {e.Message}");
        }

        System.Text.Json.Nodes.JsonObject policy;
        try
        {
            policy = System.Text.Json.Nodes.JsonNode.Parse(text) as System.Text.Json.Nodes.JsonObject
                     ?? throw new JsonException("the file must hold a JSON object");
        }
        catch (JsonException e)
        {
            throw GpmException.Usage($"The policy file '{file}' is not a JSON object: {e.Message}");
        }

        policy["reason"] = reason;
        var answer = await s.Node.PutAsync(path, policy.ToJsonString(), ct);
        return s.Show(answer, p =>
        {
            s.Output.Done($"Policy of dApp {dappId} replaced.");
            RenderPolicy(s.Output, p);
        });
    }

    private static void RenderDapp(Output output, JsonElement dapp)
    {
        output.Fields($"dApp {dapp.Text("dappId")} ({dapp.Text("name")})",
        [
            ("status", dapp.Text("status")), ("surcharge bps", dapp.Text("surchargeBps")), ("registered", dapp.Text("registeredAt")),
            ("frozen by rule", dapp.Text("frozen.rule")), ("frozen because", dapp.Text("frozen.evidence")), ("frozen since", dapp.Text("frozen.since")),
            ("throttled until", dapp.Text("throttledUntil")), ("open holds", dapp.Text("openHolds")),
        ]);
        output.Line("");
        output.Table("Balances (base units)", ["token", "deposited", "available", "held", "settled", "shortfall"],
            Tokens.Where(t => dapp.Text($"balances.balances.{t}") is not null).Select(t => new[]
            {
                t, dapp.Text($"balances.balances.{t}.deposited"), dapp.Text($"balances.balances.{t}.available"), dapp.Text($"balances.balances.{t}.held"),
                dapp.Text($"balances.balances.{t}.settled"), dapp.Text($"balances.balances.{t}.shortfall"),
            }));
        var direct = dapp.Items("directCalls").ToArray();
        if (direct.Length > 0)
        {
            output.Line("");
            output.Table("Direct-call targets", ["chain", "target"], direct.Select(d => new[] { d.Text("chainId"), d.Text("target") }));
        }
    }

    private static void RenderPolicy(Output output, JsonElement policy)
    {
        output.Fields($"Policy of dApp {policy.Text("dappId")}",
        [
            ("surcharge bps", policy.Text("surchargeBps")), ("quotes per second", policy.Text("quotesPerSecond") ?? "no limit"),
            ("allowed chains", policy.Text("allowedChains") ?? "all"), ("allowed targets", policy.Text("allowedTargets") ?? "any"),
            ("day (UTC)", policy.Text("day")),
        ]);
        output.Line("");
        var rows = new List<string?[]>();
        foreach (var token in Tokens)
        foreach (var kind in new[] { "operatorLimits", "ownLimits", "effectiveLimits" })
            if (policy.Text($"{kind}.{token}") is not null)
                rows.Add([token, kind[..^"Limits".Length], policy.Text($"{kind}.{token}.daily"), policy.Text($"{kind}.{token}.perUserDaily"),
                    policy.Text($"{kind}.{token}.perTransaction"), kind == "effectiveLimits" ? policy.Text($"spentToday.{token}") : null]);
        output.Table("Limits (base units; - is no limit)", ["token", "set by", "daily", "per user daily", "per transaction", "spent today"], rows);
    }
}
