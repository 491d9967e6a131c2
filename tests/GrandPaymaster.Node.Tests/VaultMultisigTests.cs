using System.Net;
using System.Numerics;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Operators;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Wallets;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Operators;
using Microsoft.Extensions.DependencyInjection;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// S12a on a real node and anvil: one operator's large withdrawal is not executed — its own approval is refused (403
/// <c>proposer_cannot_approve</c>), an operator without the approver role is refused (403), one approver is not enough with M = 2,
/// a second approval by the same approver does not count — and only the second distinct approver executes it, once. Every attempt
/// is in the journal. Also: the vault view (address, balance, limits, the pool wallets the node registered), cancel and expiry.
/// </summary>
public sealed class VaultMultisigTests : IAsyncLifetime
{
    private const long ChainId = 31337;
    private static readonly string Cold = "0x000000000000000000000000000000000000c01d";
    private readonly HttpClient _chainHttp = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "gpm-vault-" + Guid.NewGuid().ToString("N"));
    private readonly ShiftedClock _clock = new(TimeSpan.Zero);
    private DevnetLauncher _chains = null!;
    private TestNode _node = null!;
    private EthRpcClient _rpc = null!;

    public async Task InitializeAsync()
    {
        _chains = await DevnetLauncher.StartAsync([new DevnetChainSpec("devnet-a", ChainId, DevnetChainSpec.FreeLoopbackPort())], _chainHttp);
        _rpc = new EthRpcClient(_chainHttp, _chains.Chains[0].RpcUrl);
        await TestContracts.DeployAsync(_rpc, ChainId);
        await DevnetFunder.FundAsync(_rpc, ChainId, AnvilDevAccounts.Key(0), [(new DevWallets("grand-paymaster-devnet").Vault(ChainId).Address, 100 * DevnetFunder.Ether)]);
        _node = await TestNode.StartAsync(_dataDirectory, TestNode.ChainsOf(_chains), _clock);
        await _node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        if (_chains is not null) await _chains.DisposeAsync();
        _chainHttp.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task A_single_operators_large_withdrawal_is_not_executed_until_two_other_distinct_approvers_approve_and_every_attempt_is_journaled()
    {
        var client = _node.Client;
        var olga = await OperatorAsync("olga", "operator", OperatorRole.Approver); // proposes, and holds approver too
        var vic = await OperatorAsync("vic", "operator");                          // no approver role
        var alice = await OperatorAsync("alice", "viewer", OperatorRole.Approver);
        var bob = await OperatorAsync("bob", "viewer", OperatorRole.Approver);
        var amount = 20 * DevnetFunder.Ether;

        var proposal = await ExpectAsync(await client.SendAsync(HttpMethod.Post, "/admin/v1/vault/proposals",
            new { chainId = ChainId, to = Cold, amount = amount.ToString(), reason = "withdraw to cold storage" }, bearer: olga), HttpStatusCode.Created);
        var id = proposal.GetProperty("id").GetString()!;
        Assert.Equal(("open", 2, "operator:olga"), (proposal.GetProperty("status").GetString(), proposal.GetProperty("approvalsRequired").GetInt32(),
            proposal.GetProperty("proposedBy").GetString()));

        Assert.Equal("proposer_cannot_approve", await RefusedAsync(id, olga, HttpStatusCode.Forbidden));
        Assert.Equal("forbidden", await RefusedAsync(id, vic, HttpStatusCode.Forbidden));
        var once = await ExpectAsync(await ApproveAsync(id, alice), HttpStatusCode.OK);
        Assert.Equal(("open", 1), (once.GetProperty("status").GetString(), once.GetProperty("approvals").GetArrayLength()));
        Assert.Equal("already_approved", await RefusedAsync(id, alice, HttpStatusCode.Conflict));
        await Task.Delay(1_500);
        Assert.Equal(BigInteger.Zero, await _rpc.GetBalanceAsync(Cold, BlockTag.Latest)); // nothing moved yet

        var executed = await ExpectAsync(await ApproveAsync(id, bob), HttpStatusCode.OK);
        Assert.Equal(("executed", "proposal:" + id), (executed.GetProperty("status").GetString(), executed.GetProperty("requestId").GetString()));
        await EventuallyAsync(async () => await _rpc.GetBalanceAsync(Cold, BlockTag.Latest) == amount, "the withdrawal mined");
        Assert.Equal("proposal_executed", await RefusedAsync(id, olga, HttpStatusCode.Conflict));

        // Every attempt is in the journal: the proposal, each refused approval with who, the approvals, the execution, the transfer.
        var journal = _node.Journal;
        Assert.Equal(1, journal.RowsMentioning("vault.evt.proposal-created", "operator:olga", "withdraw to cold storage"));
        Assert.Equal(1, journal.RowsMentioning("vault.evt.proposal-approval-refused", "operator:olga", "proposer_cannot_approve"));
        Assert.Equal(1, journal.RowsMentioning("vault.evt.proposal-approval-refused", "operator:alice", "already_approved"));
        Assert.Equal(1, journal.RowsMentioning("operators.evt.access-refused", "operator:vic", "/approve"));
        Assert.Equal(1, journal.RowsMentioning("vault.evt.proposal-approved", "operator:alice"));
        Assert.Equal(1, journal.RowsMentioning("vault.evt.proposal-approved", "operator:bob"));
        Assert.Equal(1, journal.RowsMentioning("vault.evt.proposal-executed", id));
        await EventuallyAsync(() => Task.FromResult(journal.RowsMentioning("vault.evt.top-up-completed", "proposal:" + id) == 1), "TopUpCompleted journaled");
        Assert.Equal(1, journal.RowsMentioning("vault.evt.top-up-signed", "proposal:" + id));
    }

    [Fact]
    public async Task The_vault_view_lists_its_wallet_limits_and_the_pool_wallets_the_node_registered_and_proposals_can_be_cancelled_or_expire()
    {
        var client = _node.Client;
        var workers = _node.App.Services.GetRequiredService<IWalletKeys>().WorkersOf(new ChainId(ChainId)).Select(w => w.Value).Order().ToArray();
        JsonElement chain = default;
        await EventuallyAsync(async () =>
        {
            var view = await ExpectAsync(await client.SendAsync(HttpMethod.Get, "/admin/v1/vault", null, bearer: client.OperatorToken), HttpStatusCode.OK);
            chain = view.GetProperty("chains").EnumerateArray().Single(c => c.GetProperty("chainId").GetInt64() == ChainId);
            return chain.GetProperty("poolWallets").GetArrayLength() == workers.Length;
        }, "pool wallets registered by the node at start");
        Assert.Equal(workers, chain.GetProperty("poolWallets").EnumerateArray().Select(w => w.GetString()!).Order());
        Assert.Equal(new DevWallets("grand-paymaster-devnet").Vault(ChainId).Address.ToChecksumString().ToLowerInvariant(), chain.GetProperty("vaultAddress").GetString());
        // The Orchestrator may already have topped a pool wallet up from it: a live balance, at most what the vault was funded with.
        Assert.InRange(System.Numerics.BigInteger.Parse(chain.GetProperty("balance").GetString()!), System.Numerics.BigInteger.One, 100 * DevnetFunder.Ether);
        Assert.Equal(("500000000000000000000", "50000000000000000000"), (chain.GetProperty("dailyLimit").GetString(), chain.GetProperty("autoLimit").GetString()));
        // The Orchestrator may already have refilled a pool wallet today: within the daily limit.
        Assert.InRange(System.Numerics.BigInteger.Parse(chain.GetProperty("dailyUsed").GetString()!), System.Numerics.BigInteger.Zero, 500 * DevnetFunder.Ether);
        Assert.Equal(1, _node.Journal.RowsMentioning("vault.evt.pool-wallet-registered", workers[0], "system:vault"));

        var olga = await OperatorAsync("olga2", "operator");
        var alice = await OperatorAsync("alice2", "viewer", OperatorRole.Approver);
        var first = await ProposeAsync(olga, "to be cancelled");
        var cancelled = await ExpectAsync(await client.SendAsync(HttpMethod.Delete, $"/admin/v1/vault/proposals/{first}?reason=wrong%20address", null, bearer: olga),
            HttpStatusCode.OK);
        Assert.Equal(("cancelled", "operator:olga2", "wrong address"), (cancelled.GetProperty("status").GetString(), cancelled.GetProperty("closedBy").GetString(),
            cancelled.GetProperty("closeReason").GetString()));
        Assert.Equal("proposal_cancelled", await RefusedAsync(first, alice, HttpStatusCode.Conflict));

        var second = await ProposeAsync(olga, "to expire");
        _clock.Advance(TimeSpan.FromHours(25));
        Assert.Equal("proposal_expired", await RefusedAsync(second, alice, HttpStatusCode.Gone));
        await EventuallyAsync(async () =>
        {
            var list = await ExpectAsync(await client.SendAsync(HttpMethod.Get, "/admin/v1/vault/proposals?status=expired", null, bearer: olga), HttpStatusCode.OK);
            return list.GetProperty("proposals").EnumerateArray().Any(p => p.GetProperty("id").GetString() == second);
        }, "the proposal expired by the vault's timer");
        Assert.Equal(1, _node.Journal.RowsMentioning("vault.evt.proposal-expired", second, "system:vault"));
        Assert.Equal(BigInteger.Zero, await _rpc.GetBalanceAsync(Cold, BlockTag.Latest));
    }

    [Fact]
    public async Task A_chains_vault_limits_change_only_through_the_timelock_and_the_vault_journals_the_new_limits()
    {
        var client = _node.Client;
        var scheduled = await ExpectAsync(await client.SendAsync(HttpMethod.Post, "/admin/v1/timelock",
            new { kind = "vault.limit", @params = new { chainId = ChainId, dailyLimit = "7000000000000000000" }, reason = "a smaller daily limit" },
            bearer: client.OperatorToken), HttpStatusCode.Created);
        var changeId = scheduled.GetProperty("id").GetString()!;
        using (var early = await client.SendAsync(HttpMethod.Post, $"/admin/v1/timelock/{changeId}/execute", new { }, bearer: client.OperatorToken))
            Assert.Equal((HttpStatusCode)425, early.StatusCode);

        _clock.Advance(TimeSpan.FromHours(25));
        var executed = await ExpectAsync(await client.SendAsync(HttpMethod.Post, $"/admin/v1/timelock/{changeId}/execute", new { }, bearer: client.OperatorToken),
            HttpStatusCode.OK);
        Assert.Contains("daily limit of 7000000000000000000 wei", executed.GetProperty("result").GetString());
        var view = await ExpectAsync(await client.SendAsync(HttpMethod.Get, "/admin/v1/vault", null, bearer: client.OperatorToken), HttpStatusCode.OK);
        var chain = view.GetProperty("chains").EnumerateArray().Single(c => c.GetProperty("chainId").GetInt64() == ChainId);
        Assert.Equal(("7000000000000000000", "50000000000000000000"), (chain.GetProperty("dailyLimit").GetString(), chain.GetProperty("autoLimit").GetString()));
        Assert.Equal(1, _node.Journal.RowsMentioning("vault.evt.limits-set", "operator:tester", changeId));
    }

    private async Task<string> ProposeAsync(string token, string reason) =>
        (await ExpectAsync(await _node.Client.SendAsync(HttpMethod.Post, "/admin/v1/vault/proposals",
            new { chainId = ChainId, to = Cold, amount = "1000", reason }, bearer: token), HttpStatusCode.Created)).GetProperty("id").GetString()!;

    private Task<HttpResponseMessage> ApproveAsync(string id, string token) =>
        _node.Client.SendAsync(HttpMethod.Post, $"/admin/v1/vault/proposals/{id}/approve", new { reason = "checked" }, bearer: token);

    private async Task<string?> RefusedAsync(string id, string token, HttpStatusCode status)
    {
        using var response = await ApproveAsync(id, token);
        var problem = await ExpectAsync(response, status);
        return problem.GetProperty("code").GetString();
    }

    private static async Task<JsonElement> ExpectAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        using (response) return await PaymasterClient.ExpectAsync(response, status);
    }

    private Task<string> OperatorAsync(string id, string role, params OperatorRole[] grant) => _node.OperatorAsync(id, role, grant: grant);

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Not within 30 s: {what}");
            await Task.Delay(200);
        }
    }
}
