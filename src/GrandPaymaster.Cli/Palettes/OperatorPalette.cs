using System.CommandLine;
using System.Text.Json;

namespace GrandPaymaster.Cli.Palettes;

/// <summary><c>gpm operator create|revoke|list</c>: who may use the admin API, with which role and scope, until when.</summary>
public static class OperatorPalette
{
    public static Command Build(CommandKit kit)
    {
        var createId = new Argument<string>("operatorId") { Description = "The new operator's id (a name people recognise, e.g. alice)" };
        var roles = new Option<string[]>("--role")
        {
            Description = "A role (repeat for several): viewer (read), operator (pause, freeze, schedule), approver, admin (everything)",
            HelpName = "role",
            Required = true,
        }.AcceptOnlyFromAmong("viewer", "operator", "approver", "admin");
        var chains = new Option<long[]>("--chain")
        {
            Description = "Limit the operator to this chain (repeat for several; no --chain and no --dapp: everything)",
            HelpName = "chainId",
        };
        var dapps = new Option<string[]>("--dapp")
        {
            Description = "Limit the operator to this dApp (repeat for several)",
            HelpName = "dappId",
        };
        var expires = new Option<int?>("--expires-in-days")
        {
            Description = "The token expires after this many days (the node's default when left out)",
            HelpName = "days",
        };
        var createReason = CommandKit.ReasonOption();
        var revokeId = new Argument<string>("operatorId") { Description = "The operator whose token is revoked" };
        var revokeReason = CommandKit.ReasonOption();

        return CommandKit.Group("operator", "Operators of the admin API: create (the token is shown once), revoke, list",
            kit.Leaf("create", "Create an operator and print its token once (admin and approver grants may go through the timelock)",
                ["gpm operator create alice --role operator --reason \"on-call rota\"",
                 "gpm operator create bob --role viewer --chain 31337 --expires-in-days 30 --reason \"audit for chain 31337\"",
                 "GPM_TOKEN=$BOOTSTRAP_TOKEN gpm operator create first-admin --role admin --reason \"first admin\""],
                [createId, roles, chains, dapps, expires, createReason],
                async (s, ct) =>
                {
                    var chainList = s.Get(chains) ?? [];
                    var dappList = s.Get(dapps) ?? [];
                    var body = new
                    {
                        id = s.Get(createId),
                        roles = s.Get(roles),
                        scope = chainList.Length + dappList.Length == 0 ? null : new { chains = chainList.Length > 0 ? chainList : null, dapps = dappList.Length > 0 ? dappList : null },
                        expiresInDays = s.Get(expires),
                        reason = s.Reason(createReason, $"creating operator {s.Get(createId)}"),
                    };
                    return s.Show(await s.Node.PostAsync("/admin/v1/operators", body, ct), created =>
                    {
                        s.Output.Done($"Operator {created.Text("id")} created.");
                        s.Output.Fields(null,
                        [
                            ("roles", created.Text("roles")), ("scope", Scope(created)), ("expires", created.Text("expiresAt") ?? "never"),
                            ("token", created.Text("token")),
                        ]);
                        s.Output.Line(created.Text("note") ?? "The token is shown once; store it now.", "warning");
                    });
                }),
            kit.Leaf("revoke", "Revoke an operator's token at once",
                ["gpm operator revoke alice --reason \"left the team\""], [revokeId, revokeReason],
                async (s, ct) =>
                {
                    var reason = s.Reason(revokeReason, $"revoking operator {s.Get(revokeId)}");
                    var answer = await s.Node.DeleteAsync(AdminClient.Query($"/admin/v1/operators/{AdminClient.Segment(s.Get(revokeId))}", ("reason", reason)), ct);
                    return s.Show(answer, op => s.Output.Done($"Operator {op.Text("id")} is {op.Text("status") ?? "revoked"}."));
                }),
            kit.Leaf("list", "List operators: roles, scope, status (active, expired, revoked), who created them, expiry",
                ["gpm operator list", "gpm operator list --json | jq -r '.operators[] | select(.status == \"active\") | .id'"], [],
                async (s, ct) => s.Show(await s.Node.GetAsync("/admin/v1/operators", ct),
                    list => s.Output.Table(null, ["id", "roles", "scope", "status", "created", "by", "expires", "revoked"],
                        list.Items("operators").Select(o => new[]
                        {
                            o.Text("id"), o.Text("roles"), Scope(o), o.Text("status"), o.Text("createdAt"), o.Text("createdBy"), o.Text("expiresAt"), o.Text("revokedAt"),
                        })))));
    }

    private static string Scope(JsonElement op)
    {
        var parts = new List<string>();
        if (op.Text("scope.chains") is { Length: > 0 } c) parts.Add($"chains {c}");
        if (op.Text("scope.dapps") is { Length: > 0 } d) parts.Add($"dApps {d}");
        return parts.Count == 0 ? "everything" : string.Join("; ", parts);
    }
}
