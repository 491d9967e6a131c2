using System.CommandLine;
using System.Text.Json;

namespace GrandPaymaster.Cli.Palettes;

/// <summary>
/// <c>gpm vault show|proposals|propose|approve|cancel</c>: the vault's wallets and limits, and multi-sig proposals (any movement to
/// an address that is not a pool wallet, or above the automatic limit, needs the approvals of distinct approvers other than the proposer).
/// </summary>
public static class VaultPalette
{
    public static Command Build(CommandKit kit)
    {
        var status = new Option<string?>("--status")
        {
            Description = "Only proposals in this status: open, executed, cancelled, expired (all when left out)",
            HelpName = "status",
        }.AcceptOnlyFromAmong("open", "executed", "cancelled", "expired");
        var chain = new Argument<long>("chainId") { Description = "The chain the vault pays on" };
        var to = new Argument<string>("to") { Description = "The destination address (0x…)" };
        var amount = new Argument<string>("amountWei") { Description = "The amount in wei (a decimal integer, e.g. 10000000000000000000 for 10 coins)" };
        var proposeReason = CommandKit.ReasonOption();
        var approveId = ProposalArgument();
        var approveReason = CommandKit.ReasonOption(optional: true);
        var cancelId = ProposalArgument();
        var cancelReason = CommandKit.ReasonOption();

        return CommandKit.Group("vault", "The vault: wallets, limits and pool wallets per chain; multi-sig proposals, approvals and cancellations",
            kit.Leaf("show", "Per chain: the vault address and balance, today's use of the daily limit, the automatic limit, the registered pool wallets",
                ["gpm vault show", "gpm vault show --json | jq '.chains[] | {chainId, balance, dailyUsed}'"], [],
                async (s, ct) => s.Show(await s.Node.GetAsync("/admin/v1/vault", ct),
                    vault => s.Output.Table(null, ["chain", "vault", "balance (wei)", "used today", "daily limit", "auto limit", "pool wallets", "in flight"],
                        vault.Items("chains").Select(c => new[]
                        {
                            c.Text("chainId"), c.Text("vaultAddress"), c.Text("balance"), c.Text("dailyUsed"), c.Text("dailyLimit"), c.Text("autoLimit"),
                            c.TryGetProperty("poolWallets", out var w) && w.ValueKind == JsonValueKind.Array ? w.GetArrayLength().ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
                            c.Text("openTopUps"),
                        })))),
            kit.Leaf("proposals", "List proposals: destination, amount, who proposed them, approvals so far, status and expiry",
                ["gpm vault proposals", "gpm vault proposals --status open"], [status],
                async (s, ct) => s.Show(await s.Node.GetAsync(AdminClient.Query("/admin/v1/vault/proposals", ("status", s.Get(status))), ct),
                    list => s.Output.Table(null, ["id", "chain", "to", "amount (wei)", "proposed by", "approvals", "status", "expires", "reason"],
                        list.Items("proposals").Select(Row)))),
            kit.Leaf("propose", "Propose a vault movement; it is executed after the approvals of distinct approvers (never the proposer's own)",
                ["gpm vault propose 31337 0x000000000000000000000000000000000000dEaD 20000000000000000000 --reason \"cold storage, ticket 7\""],
                [chain, to, amount, proposeReason],
                async (s, ct) =>
                {
                    var body = new { chainId = s.Get(chain), to = s.Get(to), amount = s.Get(amount), reason = s.Reason(proposeReason, "proposing a vault movement") };
                    return s.Show(await s.Node.PostAsync("/admin/v1/vault/proposals", body, ct), proposal =>
                    {
                        s.Output.Done($"Proposed {proposal.Text("id")}; it needs {proposal.Text("approvalsRequired")} approvals before {proposal.Text("expiresAt")}.");
                        s.Output.Fields(null, JsonView.Flatten(proposal));
                    });
                }),
            kit.Leaf("approve", "Approve a proposal (needs the approver role; the proposer cannot approve its own)",
                ["gpm vault approve vp-3", "gpm vault approve vp-3 --reason \"checked with treasury\""], [approveId, approveReason],
                async (s, ct) =>
                {
                    var answer = await s.Node.PostAsync($"/admin/v1/vault/proposals/{AdminClient.Segment(s.Get(approveId))}/approve", new { reason = s.Get(approveReason) }, ct);
                    return s.Show(answer, proposal =>
                    {
                        s.Output.Done($"Proposal {proposal.Text("id")} is {proposal.Text("status")}.");
                        s.Output.Fields(null, JsonView.Flatten(proposal));
                    });
                }),
            kit.Leaf("cancel", "Cancel an open proposal",
                ["gpm vault cancel vp-3 --reason \"wrong address\""], [cancelId, cancelReason],
                async (s, ct) =>
                {
                    var reason = s.Reason(cancelReason, $"cancelling proposal {s.Get(cancelId)}");
                    var answer = await s.Node.DeleteAsync(AdminClient.Query($"/admin/v1/vault/proposals/{AdminClient.Segment(s.Get(cancelId))}", ("reason", reason)), ct);
                    return s.Show(answer, proposal => s.Output.Done($"Proposal {proposal.Text("id")} is {proposal.Text("status")}."));
                }));
    }

    private static Argument<string> ProposalArgument() => new("proposalId") { Description = "The proposal's id (as 'gpm vault proposals' shows it)" };

    private static string?[] Row(JsonElement p) =>
    [
        p.Text("id"), p.Text("chainId"), p.Text("to"), p.Text("amount"), p.Text("proposedBy"),
        p.TryGetProperty("approvals", out var a) && a.ValueKind == JsonValueKind.Array
            ? $"{a.GetArrayLength()}/{p.Text("approvalsRequired")}"
            : null,
        p.Text("status"), p.Text("expiresAt"), p.Text("reason"),
    ];
}
