using System.CommandLine;
using System.Text.Json;

namespace GrandPaymaster.Cli.Palettes;

/// <summary><c>gpm cluster show|leave|down</c> and <c>gpm cluster sharding regions|stats</c>: the Akka.NET cluster, as pbm shows it.</summary>
public static class ClusterPalette
{
    public static Command Build(CommandKit kit)
    {
        var leaveAddress = AddressArgument("leave");
        var downAddress = AddressArgument("be marked down");
        var leaveReason = CommandKit.ReasonOption();
        var downReason = CommandKit.ReasonOption();

        return CommandKit.Group("cluster", "The node cluster: members, leader, unreachable nodes; leave and down; sharding",
            kit.Leaf("show", "Show the cluster's members (address, status, roles, age), the leader, this node and any unreachable member",
                ["gpm cluster show"], [],
                async (s, ct) => s.Show(await s.Node.GetAsync("/admin/v1/cluster", ct), c => RenderCluster(s.Output, c))),
            kit.Leaf("leave", "Ask a member to leave the cluster gracefully (its shards and singletons move first)",
                ["gpm cluster leave akka.tcp://grand-paymaster@10.0.0.7:4053 --reason \"host maintenance\""], [leaveAddress, leaveReason],
                (s, ct) => MembershipAsync(s, "leave", s.Get(leaveAddress), s.Reason(leaveReason, $"making {s.Get(leaveAddress)} leave"), ct)),
            kit.Leaf("down", "Mark an unreachable member down (it is removed; only for a node that is really gone)",
                ["gpm cluster down akka.tcp://grand-paymaster@10.0.0.7:4053 --reason \"VM destroyed\""], [downAddress, downReason],
                (s, ct) => MembershipAsync(s, "down", s.Get(downAddress), s.Reason(downReason, $"downing {s.Get(downAddress)}"), ct)),
            CommandKit.Group("sharding", "Cluster sharding: regions, shards and entities",
                kit.Leaf("regions", "List the shard regions with their shard and entity counts",
                    ["gpm cluster sharding regions", "gpm cluster sharding regions --json | jq '.regions[].typeName'"], [],
                    async (s, ct) => s.Show(await s.Node.GetAsync("/admin/v1/cluster/sharding", ct), sh => RenderRegions(s.Output, sh))),
                kit.Leaf("stats", "Show the sharding statistics (the stats of GET /admin/v1/cluster/sharding)",
                    ["gpm cluster sharding stats"], [],
                    async (s, ct) => s.Show(await s.Node.GetAsync("/admin/v1/cluster/sharding", ct),
                        sh => s.Output.Fields("Sharding statistics", sh.TryGetProperty("stats", out var stats) ? JsonView.Flatten(stats) : [])))));
    }

    private static Argument<string> AddressArgument(string what) =>
        new("address") { Description = $"The member's address that should {what} (as 'gpm cluster show' lists it)" };

    private static async Task<int> MembershipAsync(Session s, string action, string address, string reason, CancellationToken ct)
    {
        var answer = await s.Node.PostAsync($"/admin/v1/cluster/{action}", new { address, reason }, ct);
        return s.Show(answer, result =>
        {
            s.Output.Done($"Asked the cluster to {(action == "leave" ? "let" : "down")} {address}{(action == "leave" ? " leave" : "")}.");
            if (result.ValueKind == JsonValueKind.Object) s.Output.Fields(null, JsonView.Flatten(result));
        });
    }

    private static void RenderCluster(Output output, JsonElement cluster)
    {
        var self = cluster.Text("self");
        var leader = cluster.Text("leader");
        var unreachable = cluster.Items("unreachable").Select(u => JsonView.Format(u) ?? "").ToHashSet();
        output.Fields(null, [("this node", self), ("leader", leader), ("unreachable", unreachable.Count == 0 ? "none" : string.Join(", ", unreachable))]);
        output.Line("");
        output.Table("Members", ["address", "status", "roles", "up number", ""],
            cluster.Items("members").Select(m =>
            {
                var address = m.Text("address");
                var notes = new[] { address == leader ? "leader" : null, address == self ? "self" : null, address is not null && unreachable.Contains(address) ? "unreachable" : null };
                return new[] { address, m.Text("status"), m.Text("roles"), m.Text("upNumber"), string.Join(" ", notes.Where(n => n is not null)) };
            }));
    }

    /// <summary>A shard's entities: a count, or the list of their ids.</summary>
    private static long Entities(JsonElement shard) =>
        !shard.TryGetProperty("entities", out var entities) ? 0
        : entities.ValueKind == JsonValueKind.Array ? entities.GetArrayLength()
        : entities.TryGetInt64(out var count) ? count : 0;

    private static void RenderRegions(Output output, JsonElement sharding) =>
        output.Table("Shard regions", ["type", "shards", "entities"],
            sharding.Items("regions").Select(r => new[]
            {
                r.Text("typeName"), r.Items("shards").Count().ToString(System.Globalization.CultureInfo.InvariantCulture),
                r.Items("shards").Sum(Entities).ToString(System.Globalization.CultureInfo.InvariantCulture),
            }));
}
