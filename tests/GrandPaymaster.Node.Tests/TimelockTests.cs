using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Node.Api;
using Microsoft.Extensions.DependencyInjection;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// The timelock and the cluster routes on a real node (one anvil chain, delays of seconds): a chain disabled only through the
/// timelock (425 before the eta, executed once after it, quotes refused), a direct timelocked change refused with
/// <c>timelock_required</c> and the attempt recorded, the surcharge changed through the timelock, and the cluster as operators see it.
/// </summary>
public sealed class TimelockTests : SingleChain
{
    private const string Target = "0x2222222222222222222222222222222222222222";

    private const string Delays = """gpm.timelock.delays { "chain.disable" = 3s, "chain.enable" = 1s, "dapp.surcharge" = 1s, "operator.grant" = 1s }""";

    private readonly RecordingOperators _recorded = new();

    [Fact]
    public async Task A_chain_is_disabled_only_through_the_timelock_executed_once_after_its_eta_and_enabled_the_same_way()
    {
        await using var node = await StartAsync();
        var client = node.Client;
        var (_, apiKey) = await client.RegisterDappAsync(directCalls: [(31337, Target)]);

        // The direct route is refused, and the attempt is recorded.
        using (var direct = await Admin(client, HttpMethod.Post, "/admin/v1/pools/31337/disable", new { reason = "now!" }))
            Assert.Equal("timelock_required", (await PaymasterClient.ExpectAsync(direct, HttpStatusCode.Forbidden)).GetProperty("code").GetString());
        Assert.Contains(_recorded.Actions, a => a is { Action: "timelock.bypass-refused", Subject: "chain.disable 31337" } && a.Meta.Actor == "operator:tester");
        // S12b: the attempt is in the audit log (the operators' journal), with who tried.
        Assert.Equal(1, node.Journal.RowsMentioning("operators.evt.acted", "timelock.bypass-refused", "chain.disable 31337"));
        Assert.Equal(1, node.Journal.RowsMentioning("operators.evt.acted", "chain.disable 31337", "operator:tester"));

        var scheduled = await ScheduleAsync(client, "chain.disable", new { chainId = 31337 }, "RPC provider migration");
        var id = scheduled.GetProperty("id").GetString()!;
        Assert.Equal(("scheduled", "operator:tester", "RPC provider migration", 31337), (scheduled.GetProperty("status").GetString(),
            scheduled.GetProperty("scheduledBy").GetString(), scheduled.GetProperty("reason").GetString(), scheduled.GetProperty("params").GetProperty("chainId").GetInt64()));
        var eta = scheduled.GetProperty("eta").GetDateTimeOffset();
        var delay = eta - scheduled.GetProperty("scheduledAt").GetDateTimeOffset();
        Assert.True(delay >= TimeSpan.FromSeconds(2.9) && delay <= TimeSpan.FromSeconds(3.1), $"delay {delay}");

        using (var early = await Admin(client, HttpMethod.Post, $"/admin/v1/timelock/{id}/execute", new { reason = "too soon" }))
        {
            var problem = await PaymasterClient.ExpectAsync(early, (HttpStatusCode)425);
            Assert.Equal("timelock_not_ready", problem.GetProperty("code").GetString());
            Assert.Equal(eta, problem.GetProperty("eta").GetDateTimeOffset());
            Assert.True(early.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        }

        using (var served = await QuoteAsync(client, apiKey))
            await PaymasterClient.ExpectAsync(served, HttpStatusCode.Created);
        await WaitUntilAsync(eta);
        var executed = await ExecuteAsync(client, id);

        Assert.Equal(("executed", "operator:tester"), (executed.GetProperty("status").GetString(), executed.GetProperty("executedBy").GetString()));
        Assert.Equal("the pool of chain 31337 is disabled", executed.GetProperty("result").GetString());
        using (var refused = await QuoteAsync(client, apiKey))
            Assert.Equal("pool_disabled", (await PaymasterClient.ExpectAsync(refused, HttpStatusCode.ServiceUnavailable)).GetProperty("code").GetString());
        using (var again = await Admin(client, HttpMethod.Post, $"/admin/v1/timelock/{id}/execute", null))
            Assert.Equal("timelock_already_executed", (await PaymasterClient.ExpectAsync(again, HttpStatusCode.Conflict)).GetProperty("code").GetString());
        var listed = await ListAsync(client, "executed");
        Assert.Equal(id, Assert.Single(listed.EnumerateArray()).GetProperty("id").GetString());
        // The pool journals the change with the executing operator and the change's id; the timelock journals the execution once.
        Assert.Equal(1, node.Journal.RowsMentioning("pool.evt.mode-changed", "\"Disabled\"", $"timelock {id} (chain.disable"));
        Assert.Equal(1, node.Journal.RowsMentioning("timelock.evt.executed", "operator:tester"));

        // A disabled pool is not resumed by hand either: that would be an enable without the timelock.
        using (var resume = await Admin(client, HttpMethod.Post, "/admin/v1/pools/31337/resume", new { reason = "sneak back" }))
            Assert.Equal("timelock_required", (await PaymasterClient.ExpectAsync(resume, HttpStatusCode.Forbidden)).GetProperty("code").GetString());
        using (var pause = await Admin(client, HttpMethod.Post, "/admin/v1/pools/31337/pause", new { reason = "pause it too" }))
            Assert.Equal("pool_disabled", (await PaymasterClient.ExpectAsync(pause, HttpStatusCode.Conflict)).GetProperty("code").GetString());
        Assert.Contains(_recorded.Actions, a => a is { Action: "timelock.bypass-refused", Subject: "chain.enable 31337" });

        var enable = await ScheduleAsync(client, "chain.enable", new { chainId = 31337 }, "migration done");
        await WaitUntilAsync(enable.GetProperty("eta").GetDateTimeOffset());
        Assert.Equal("the pool of chain 31337 is normal", (await ExecuteAsync(client, enable.GetProperty("id").GetString()!)).GetProperty("result").GetString());
        using (var servedAgain = await QuoteAsync(client, apiKey))
            await PaymasterClient.ExpectAsync(servedAgain, HttpStatusCode.Created);
    }

    [Fact]
    public async Task An_enable_scheduled_before_a_later_disable_and_a_disable_scheduled_before_a_later_enable_are_refused_as_stale()
    {
        await using var node = await StartAsync();
        var client = node.Client;
        var (_, apiKey) = await client.RegisterDappAsync(directCalls: [(31337, Target)]);

        // An enable prepared in advance, then a disable: once the disable is executed, the old enable (its 1 s long served)
        // must not lift it at once.
        var staleEnable = await ScheduleAsync(client, "chain.enable", new { chainId = 31337 }, "prepared in advance");
        var disable = await ScheduleAsync(client, "chain.disable", new { chainId = 31337 }, "incident 7");
        await WaitUntilAsync(disable.GetProperty("eta").GetDateTimeOffset());
        await ExecuteAsync(client, disable.GetProperty("id").GetString()!);
        var staleId = staleEnable.GetProperty("id").GetString()!;

        using (var stale = await Admin(client, HttpMethod.Post, $"/admin/v1/timelock/{staleId}/execute", new { reason = "right after the disable" }))
        {
            var problem = await PaymasterClient.ExpectAsync(stale, HttpStatusCode.Conflict);
            Assert.Equal("timelock_stale", problem.GetProperty("code").GetString());
            Assert.Contains("disabled", problem.GetProperty("detail").GetString());
        }

        Assert.Equal("disabled", await PoolModeAsync(client));
        using (var refused = await QuoteAsync(client, apiKey))
            Assert.Equal("pool_disabled", (await PaymasterClient.ExpectAsync(refused, HttpStatusCode.ServiceUnavailable)).GetProperty("code").GetString());
        // The attempt is journaled; the change stays scheduled (to be cancelled, or to expire) and the pool journaled nothing.
        var listed = Assert.Single((await ListAsync(client, "scheduled")).EnumerateArray(), c => c.GetProperty("id").GetString() == staleId);
        Assert.Equal(1, listed.GetProperty("failedAttempts").GetInt32());
        Assert.StartsWith("timelock_stale", listed.GetProperty("lastError").GetString());
        Assert.Equal(1, node.Journal.RowsMentioning("timelock.evt.execution-failed", "timelock_stale"));
        Assert.Equal(0, node.Journal.RowsMentioning("pool.evt.mode-changed", "\"Normal\"", $"timelock {staleId}"));

        // The other way round: a disable scheduled while the chain is disabled, then an enable scheduled after the disable and
        // executed. The older disable must not take the chain down again.
        var staleDisable = await ScheduleAsync(client, "chain.disable", new { chainId = 31337 }, "belt and braces");
        var enable = await ScheduleAsync(client, "chain.enable", new { chainId = 31337 }, "incident 7 resolved");
        await WaitUntilAsync(enable.GetProperty("eta").GetDateTimeOffset());
        Assert.Equal("the pool of chain 31337 is normal", (await ExecuteAsync(client, enable.GetProperty("id").GetString()!)).GetProperty("result").GetString());
        await WaitUntilAsync(staleDisable.GetProperty("eta").GetDateTimeOffset());
        using (var stale = await Admin(client, HttpMethod.Post, $"/admin/v1/timelock/{staleDisable.GetProperty("id").GetString()}/execute", null))
        {
            var problem = await PaymasterClient.ExpectAsync(stale, HttpStatusCode.Conflict);
            Assert.Equal("timelock_stale", problem.GetProperty("code").GetString());
            Assert.Contains("enabled", problem.GetProperty("detail").GetString());
        }

        Assert.Equal("normal", await PoolModeAsync(client));
        using (var served = await QuoteAsync(client, apiKey))
            await PaymasterClient.ExpectAsync(served, HttpStatusCode.Created);

        // A disable scheduled after that enable is not stale.
        var fresh = await ScheduleAsync(client, "chain.disable", new { chainId = 31337 }, "decided after the enable");
        await WaitUntilAsync(fresh.GetProperty("eta").GetDateTimeOffset());
        Assert.Equal("the pool of chain 31337 is disabled", (await ExecuteAsync(client, fresh.GetProperty("id").GetString()!)).GetProperty("result").GetString());
    }

    [Fact]
    public async Task An_approver_is_made_only_through_the_timelock_and_only_an_admin_schedules_it()
    {
        await using var node = await StartAsync();
        var client = node.Client;
        async Task<string> CreateAsync(string id, string role)
        {
            using var created = await Admin(client, HttpMethod.Post, "/admin/v1/operators", new { id, roles = new[] { role }, reason = "treasury rota" });
            return (await PaymasterClient.ExpectAsync(created, HttpStatusCode.Created)).GetProperty("token").GetString()!;
        }

        var cfo = await CreateAsync("cfo", "viewer");
        var operatorToken = await CreateAsync("night-shift", "operator");
        var grant = new { kind = "operator.grant", @params = new { operatorId = "cfo", roles = new[] { "approver" } }, reason = "second approver for the vault" };

        using (var byOperator = await client.SendAsync(HttpMethod.Post, "/admin/v1/timelock", grant, bearer: operatorToken))
            Assert.Equal("forbidden", (await PaymasterClient.ExpectAsync(byOperator, HttpStatusCode.Forbidden)).GetProperty("code").GetString());
        using (var unknown = await Admin(client, HttpMethod.Post, "/admin/v1/timelock",
                   new { kind = "operator.grant", @params = new { operatorId = "nobody", roles = new[] { "admin" } }, reason = "x" }))
            Assert.Equal("operator_not_found", (await PaymasterClient.ExpectAsync(unknown, HttpStatusCode.NotFound)).GetProperty("code").GetString());

        var scheduled = await ScheduleAsync(client, "operator.grant", grant.@params, grant.reason);
        await WaitUntilAsync(scheduled.GetProperty("eta").GetDateTimeOffset());
        var executed = await ExecuteAsync(client, scheduled.GetProperty("id").GetString()!);

        Assert.Equal("operator cfo holds viewer, approver", executed.GetProperty("result").GetString());
        using var me = await client.SendAsync(HttpMethod.Get, "/admin/v1/operators/me", null, bearer: cfo);
        Assert.Equal(["viewer", "approver"], (await PaymasterClient.ExpectAsync(me, HttpStatusCode.OK)).GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(1, node.Journal.RowsMentioning("operators.evt.roles-granted", "\"cfo\"", "second approver for the vault"));
    }

    [Fact]
    public async Task A_direct_surcharge_change_is_refused_and_recorded_while_the_rest_of_the_policy_applies_and_the_timelock_changes_it()
    {
        await using var node = await StartAsync();
        var client = node.Client;
        var (dappId, _) = await client.RegisterDappAsync(surchargeBps: 3_000);

        using (var direct = await Admin(client, HttpMethod.Put, $"/admin/v1/dapps/{dappId}/policy", new { surchargeBps = 2_500, quotesPerSecond = 7, reason = "cheaper" }))
            Assert.Equal("timelock_required", (await PaymasterClient.ExpectAsync(direct, HttpStatusCode.Forbidden)).GetProperty("code").GetString());
        Assert.Equal(0, node.Journal.RowsMentioning("dapp.evt.policy-set", dappId)); // refused whole: nothing of it applied
        var attempt = Assert.Single(_recorded.Actions, a => a.Subject == $"dapp.surcharge {dappId}");
        Assert.Equal(("timelock.bypass-refused", "operator:tester"), (attempt.Action, attempt.Meta.Actor));
        Assert.Contains("3000 → 2500 bps", attempt.Meta.Reason);

        // The same surcharge (or none) lets the rest of the policy apply at once.
        using (var same = await Admin(client, HttpMethod.Put, $"/admin/v1/dapps/{dappId}/policy", new { surchargeBps = 3_000, quotesPerSecond = 7, reason = "rate" }))
            Assert.Equal(7, (await PaymasterClient.ExpectAsync(same, HttpStatusCode.OK)).GetProperty("quotesPerSecond").GetInt32());

        using (var badParams = await Admin(client, HttpMethod.Post, "/admin/v1/timelock", new { kind = "dapp.surcharge", @params = new { dappId, surchargeBps = 9_000 }, reason = "x" }))
            Assert.Contains("params.surchargeBps", (await PaymasterClient.ExpectAsync(badParams, HttpStatusCode.BadRequest)).GetProperty("errors").EnumerateObject().Select(p => p.Name));
        using (var unknownDapp = await Admin(client, HttpMethod.Post, "/admin/v1/timelock",
                   new { kind = "dapp.surcharge", @params = new { dappId = "no-such-dapp", surchargeBps = 2_500 }, reason = "x" }))
            Assert.Equal("dapp_not_found", (await PaymasterClient.ExpectAsync(unknownDapp, HttpStatusCode.NotFound)).GetProperty("code").GetString());

        var change = await ScheduleAsync(client, "dapp.surcharge", new { dappId, surchargeBps = 2_500 }, "volume discount agreed");
        await WaitUntilAsync(change.GetProperty("eta").GetDateTimeOffset());
        var executed = await ExecuteAsync(client, change.GetProperty("id").GetString()!);

        Assert.Equal($"the surcharge of dApp {dappId} is 2500 bps (was 3000)", executed.GetProperty("result").GetString());
        using var policy = await Admin(client, HttpMethod.Get, $"/admin/v1/dapps/{dappId}/policy", null);
        var view = await PaymasterClient.ExpectAsync(policy, HttpStatusCode.OK);
        Assert.Equal((2_500, 7), (view.GetProperty("surchargeBps").GetInt32(), view.GetProperty("quotesPerSecond").GetInt32()));
        Assert.Equal(1, node.Journal.RowsMentioning("dapp.evt.policy-set", dappId, "volume discount agreed"));
    }

    [Fact]
    public async Task A_scheduled_change_is_cancelled_with_a_reason_and_bad_requests_change_nothing()
    {
        await using var node = await StartAsync();
        var client = node.Client;
        var change = await ScheduleAsync(client, "chain.disable", new { chainId = 31337 }, "maybe later");
        var id = change.GetProperty("id").GetString()!;

        using (var unknownKind = await Admin(client, HttpMethod.Post, "/admin/v1/timelock", new { kind = "chain.explode", @params = new { chainId = 31337 }, reason = "x" }))
            Assert.Contains("kind", (await PaymasterClient.ExpectAsync(unknownKind, HttpStatusCode.BadRequest)).GetProperty("errors").EnumerateObject().Select(p => p.Name));
        using (var noParams = await Admin(client, HttpMethod.Post, "/admin/v1/timelock", new { kind = "chain.disable", reason = "x" }))
            await PaymasterClient.ExpectAsync(noParams, HttpStatusCode.BadRequest);
        using (var unknownChain = await Admin(client, HttpMethod.Post, "/admin/v1/timelock", new { kind = "chain.disable", @params = new { chainId = 5 }, reason = "x" }))
            Assert.Equal("unknown_chain", (await PaymasterClient.ExpectAsync(unknownChain, HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        using (var noReason = await Admin(client, HttpMethod.Delete, $"/admin/v1/timelock/{id}", null))
            await PaymasterClient.ExpectAsync(noReason, HttpStatusCode.BadRequest);
        using (var badStatus = await Admin(client, HttpMethod.Get, "/admin/v1/timelock?status=1", null))
            await PaymasterClient.ExpectAsync(badStatus, HttpStatusCode.BadRequest);
        using (var unknownChange = await Admin(client, HttpMethod.Post, "/admin/v1/timelock/tl-999/execute", null))
            Assert.Equal("not_found", (await PaymasterClient.ExpectAsync(unknownChange, HttpStatusCode.NotFound)).GetProperty("code").GetString());
        using (var anonymous = await client.SendAsync(HttpMethod.Get, "/admin/v1/timelock", null))
            await PaymasterClient.ExpectAsync(anonymous, HttpStatusCode.Unauthorized);
        // The timelock's journal holds the one scheduled change and nothing else.
        Assert.Equal((1, 0, 0), (node.Journal.Rows("timelock", "timelock.evt.scheduled"), node.Journal.Rows("timelock", "timelock.evt.cancelled"),
            node.Journal.Rows("timelock", "timelock.evt.execution-failed")));

        using var cancel = await Admin(client, HttpMethod.Delete, $"/admin/v1/timelock/{id}?reason=not%20needed", null);
        var cancelled = await PaymasterClient.ExpectAsync(cancel, HttpStatusCode.OK);
        Assert.Equal(("cancelled", "operator:tester", "not needed"), (cancelled.GetProperty("status").GetString(), cancelled.GetProperty("cancelledBy").GetString(),
            cancelled.GetProperty("cancelReason").GetString()));
        await WaitUntilAsync(change.GetProperty("eta").GetDateTimeOffset());
        using (var execute = await Admin(client, HttpMethod.Post, $"/admin/v1/timelock/{id}/execute", null))
            Assert.Equal("timelock_cancelled", (await PaymasterClient.ExpectAsync(execute, HttpStatusCode.Conflict)).GetProperty("code").GetString());
        Assert.Empty((await ListAsync(client, "scheduled")).EnumerateArray());
        Assert.Equal("normal", (await PoolModeAsync(client)));
    }

    [Fact]
    public async Task The_cluster_view_lists_this_node_as_the_leader_its_shard_regions_and_refuses_addresses_that_are_not_members()
    {
        await using var node = await StartAsync();
        var client = node.Client;
        await client.RegisterDappAsync();

        using var show = await Admin(client, HttpMethod.Get, "/admin/v1/cluster", null);
        var cluster = await PaymasterClient.ExpectAsync(show, HttpStatusCode.OK);
        var self = cluster.GetProperty("self").GetString()!;
        Assert.Equal(self, cluster.GetProperty("leader").GetString());
        var member = Assert.Single(cluster.GetProperty("members").EnumerateArray());
        Assert.Equal((self, "up", 1), (member.GetProperty("address").GetString(), member.GetProperty("status").GetString(), member.GetProperty("upNumber").GetInt32()));
        Assert.Equal(["core", "edge", "vault"], member.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Empty(cluster.GetProperty("unreachable").EnumerateArray());

        using var shards = await Admin(client, HttpMethod.Get, "/admin/v1/cluster/sharding", null);
        var sharding = await PaymasterClient.ExpectAsync(shards, HttpStatusCode.OK);
        var regions = sharding.GetProperty("regions").EnumerateArray().ToDictionary(r => r.GetProperty("typeName").GetString()!);
        Assert.Contains("pool", regions.Keys);
        Assert.Contains(regions["pool"].GetProperty("shards").EnumerateArray(), s => s.GetProperty("entities").GetInt32() >= 1 && s.GetProperty("address").GetString() == self);
        Assert.True(sharding.GetProperty("stats").GetProperty("pool").GetProperty("entities").GetInt32() >= 1);

        using (var stranger = await Admin(client, HttpMethod.Post, "/admin/v1/cluster/down", new { address = "akka.tcp://grand-paymaster@10.9.9.9:4053", reason = "gone" }))
            Assert.Equal("unknown_member", (await PaymasterClient.ExpectAsync(stranger, HttpStatusCode.NotFound)).GetProperty("code").GetString());
        using (var garbage = await Admin(client, HttpMethod.Post, "/admin/v1/cluster/leave", new { address = "not an address", reason = "x" }))
            await PaymasterClient.ExpectAsync(garbage, HttpStatusCode.BadRequest);
        using (var noReason = await Admin(client, HttpMethod.Post, "/admin/v1/cluster/leave", new { address = self }))
            await PaymasterClient.ExpectAsync(noReason, HttpStatusCode.BadRequest);
        Assert.DoesNotContain(_recorded.Actions, a => a.Action.StartsWith("cluster.", StringComparison.Ordinal));
        Assert.Equal("up", Assert.Single((await PaymasterClient.ExpectAsync(await Admin(client, HttpMethod.Get, "/admin/v1/cluster", null), HttpStatusCode.OK))
            .GetProperty("members").EnumerateArray()).GetProperty("status").GetString());
    }

    private async Task<TestNode> StartAsync()
    {
        var node = await TestNode.StartWithAsync(DataDirectory, [("devnet-a", 31337, Chains.Chains[0].RpcUrl)], _recorded.Install, $"--Gpm:Timelock:Hocon={Delays}");
        Assert.Equal(HttpStatusCode.OK, (await node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60))).StatusCode);
        return node;
    }

    private static Task<HttpResponseMessage> Admin(PaymasterClient client, HttpMethod method, string path, object? body) => client.SendAsync(method, path, body, bearer: client.OperatorToken);

    private static async Task<JsonElement> ScheduleAsync(PaymasterClient client, string kind, object parameters, string reason)
    {
        using var response = await Admin(client, HttpMethod.Post, "/admin/v1/timelock", new { kind, @params = parameters, reason });
        return await PaymasterClient.ExpectAsync(response, HttpStatusCode.Created);
    }

    private static async Task<JsonElement> ExecuteAsync(PaymasterClient client, string id)
    {
        using var response = await Admin(client, HttpMethod.Post, $"/admin/v1/timelock/{id}/execute", new { reason = "eta passed" });
        return await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK);
    }

    private static async Task<JsonElement> ListAsync(PaymasterClient client, string status)
    {
        using var response = await Admin(client, HttpMethod.Get, $"/admin/v1/timelock?status={status}", null);
        return (await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK)).GetProperty("changes");
    }

    private static async Task<string> PoolModeAsync(PaymasterClient client)
    {
        using var response = await Admin(client, HttpMethod.Get, "/admin/v1/pools/31337", null);
        return (await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK)).GetProperty("mode").GetString()!;
    }

    private static Task<HttpResponseMessage> QuoteAsync(PaymasterClient client, string apiKey) =>
        client.QuoteAsync(apiKey, new { chainId = 31337, sender = "0x1111111111111111111111111111111111111111", to = Target, gasLimit = "21000", feeToken = "USDT", callType = "direct" });

    /// <summary>The node's clock is the system's: wait until the eta has passed on it.</summary>
    private static async Task WaitUntilAsync(DateTimeOffset eta)
    {
        var wait = eta - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(100);
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
    }

    /// <summary>Wraps the node's operator registry and keeps what it was asked to journal (whatever the registry is).</summary>
    private sealed class RecordingOperators
    {
        public ConcurrentQueue<(string Action, string Subject, Meta Meta)> Actions { get; } = new();

        public void Install(IServiceCollection services)
        {
            var original = services.Last(d => d.ServiceType == typeof(IOperatorRegistry));
            services.Remove(original);
            services.AddSingleton<IOperatorRegistry>(sp => new Recorder(this, original.ImplementationInstance as IOperatorRegistry
                ?? original.ImplementationFactory?.Invoke(sp) as IOperatorRegistry
                ?? (IOperatorRegistry)ActivatorUtilities.CreateInstance(sp, original.ImplementationType!)));
        }

        private sealed class Recorder(RecordingOperators owner, IOperatorRegistry inner) : IOperatorRegistry
        {
            public Task<OperatorAuthentication> AuthenticateAsync(string token, System.Net.IPAddress? from, CancellationToken ct) => inner.AuthenticateAsync(token, from, ct);

            public void Forget() => inner.Forget();

            public Task<bool> RecordRefusalAsync(string operatorId, string method, string route, string code, string detail, string correlationId, CancellationToken ct) =>
                inner.RecordRefusalAsync(operatorId, method, route, code, detail, correlationId, ct);

            public async Task RecordActionAsync(string action, string subject, Meta meta, CancellationToken ct)
            {
                await inner.RecordActionAsync(action, subject, meta, ct);
                owner.Actions.Enqueue((action, subject, meta));
            }
        }
    }
}
