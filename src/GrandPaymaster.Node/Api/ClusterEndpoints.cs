using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using GrandPaymaster.Domain.Operators;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// The cluster as operators see and steer it (<c>/admin/v1/cluster</c>, the API behind <c>gpm cluster show|leave|down</c> and
/// <c>gpm cluster sharding</c>): members as this node sees them, a graceful leave or a down of a current member (journaled through the
/// operator registry before it is done), and the shard regions with their shards and entity counts.
/// </summary>
public static class ClusterEndpoints
{
    /// <summary>How long the sharding statistics wait for every region to answer (a region that does not is listed as failed).</summary>
    private static readonly TimeSpan StatsTimeout = TimeSpan.FromSeconds(3);

    public static void MapClusterAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/cluster", Show).RequireRole(OperatorRole.Viewer);
        admin.MapPost("/cluster/leave", (HttpContext http, ActorSystem system, IOperatorRegistry registry, TimeProvider clock) =>
            MembershipAsync(http, system, registry, clock, "leave")).RequireRole(OperatorRole.Admin);
        admin.MapPost("/cluster/down", (HttpContext http, ActorSystem system, IOperatorRegistry registry, TimeProvider clock) =>
            MembershipAsync(http, system, registry, clock, "down")).RequireRole(OperatorRole.Admin);
        admin.MapGet("/cluster/sharding", ShardingAsync).RequireRole(OperatorRole.Viewer);
    }

    /// <summary>
    /// <c>{self, leader, members:[{address, status, roles, upNumber}], unreachable:[address]}</c>. <c>upNumber</c> is the member's rank
    /// by age among the members that are up (1: the oldest, where the singletons run); null for one that is not up yet.
    /// </summary>
    private static IResult Show(ActorSystem system)
    {
        var cluster = Cluster.Get(system);
        var state = cluster.State;
        var ages = state.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.Leaving or MemberStatus.Exiting)
            .Order(Member.AgeOrdering).Select((m, i) => (m.UniqueAddress, Rank: i + 1)).ToDictionary(a => a.UniqueAddress, a => a.Rank);
        return Results.Json(new
        {
            self = cluster.SelfAddress.ToString(),
            leader = state.Leader?.ToString(),
            members = state.Members.Select(m => new
            {
                address = m.Address.ToString(),
                status = m.Status.ToString().ToLowerInvariant(),
                roles = m.Roles.Order(StringComparer.Ordinal).ToArray(),
                upNumber = ages.TryGetValue(m.UniqueAddress, out var rank) ? rank : (int?)null,
            }),
            unreachable = state.Unreachable.Select(m => m.Address.ToString()).Order(StringComparer.Ordinal),
        });
    }

    /// <summary>
    /// <c>{address, reason}</c>: the member at <c>address</c> (one of the current members, as <c>GET /cluster</c> lists them) leaves
    /// gracefully (its singletons and shards hand over first) or is marked down (for a member that is gone and will not come back).
    /// The act is journaled before it is done; 202, since the cluster carries it out by gossip.
    /// </summary>
    private static async Task<IResult> MembershipAsync(HttpContext http, ActorSystem system, IOperatorRegistry registry, TimeProvider clock, string action)
    {
        var (body, problem) = await JsonRequest.ReadAsync(http);
        if (problem is not null) return problem;
        body!.Allow("address", "reason");
        var text = body.String("address", required: true, maxLength: 256);
        var reason = body.String("reason", required: true, maxLength: 256);
        Address? address = null;
        if (text is not null)
        {
            try
            {
                address = Address.Parse(text);
            }
            catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
            {
                body.Error("address", "must be a member address such as akka.tcp://grand-paymaster@10.0.0.5:4053");
            }

            if (address is { HasGlobalScope: false }) body.Error("address", "must name a host and a port");
        }

        if (!body.IsValid) return Problems.Invalid(body.Errors);

        var cluster = Cluster.Get(system);
        var member = cluster.State.Members.FirstOrDefault(m => m.Address.Equals(address));
        if (member is null)
            return Problems.Of(StatusCodes.Status404NotFound, "unknown_member",
                $"{address} is not a member of this cluster; GET /admin/v1/cluster lists the current members.");

        await registry.RecordActionAsync($"cluster.{action}", member.Address.ToString(), http.OperatorMeta(reason!, clock), http.RequestAborted);
        if (action == "leave") cluster.Leave(member.Address);
        else cluster.Down(member.Address);
        return Results.Json(new
        {
            address = member.Address.ToString(),
            action,
            previousStatus = member.Status.ToString().ToLowerInvariant(),
            reason,
        }, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>
    /// <c>{regions:[{typeName, shards:[{shardId, entities, address}], failedShards, error?}], stats:{typeName: {nodes, shards, entities}}}</c>: every shard
    /// region this node knows, from <see cref="GetClusterShardingStats"/> (each region of the cluster answers within the timeout; those
    /// that do not are named in <c>failedShards</c> or <c>error</c>).
    /// </summary>
    private static async Task<IResult> ShardingAsync(HttpContext http, ActorSystem system)
    {
        var sharding = ClusterSharding.Get(system);
        var names = sharding.ShardTypeNames.Order(StringComparer.Ordinal).ToArray();
        var answers = await Task.WhenAll(names.Select(async name =>
        {
            try
            {
                var stats = await sharding.ShardRegion(name).Ask<ClusterShardingStats>(new GetClusterShardingStats(StatsTimeout), StatsTimeout + TimeSpan.FromSeconds(1),
                    http.RequestAborted);
                return (Name: name, Stats: stats, Error: (string?)null);
            }
            catch (AskTimeoutException)
            {
                return (Name: name, Stats: (ClusterShardingStats?)null, Error: $"no answer within {StatsTimeout.TotalSeconds:0} s");
            }
        }));

        var regions = answers.Select(a => new
        {
            typeName = a.Name,
            shards = a.Stats is null
                ? []
                : a.Stats.Regions.SelectMany(r => r.Value.Stats.Select(s => new { shardId = s.Key, entities = s.Value, address = r.Key.ToString() }))
                    .OrderBy(s => s.shardId, StringComparer.Ordinal).ToArray(),
            failedShards = a.Stats is null ? [] : a.Stats.Regions.SelectMany(r => r.Value.Failed ?? []).Order(StringComparer.Ordinal).ToArray(),
            error = a.Error,
        }).ToArray();
        var stats = answers.Where(a => a.Stats is not null).ToDictionary(a => a.Name, a => (object)new
        {
            nodes = a.Stats!.Regions.Count,
            shards = a.Stats.Regions.Sum(r => r.Value.Stats.Count),
            entities = a.Stats.Regions.Sum(r => r.Value.Stats.Values.Sum()),
        });
        return Results.Json(new { regions, stats });
    }
}
