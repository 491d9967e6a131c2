using System.Net;
using System.Text.Json;

namespace GrandPaymaster.Node.Tests;

/// <summary>Operators through the admin API of a real node: tokens shown once, revocation at once, the bootstrap closed, the journal.</summary>
[Collection(NodeCollection.Name)]
public sealed class OperatorApiTests(NodeFixture fixture)
{
    private PaymasterClient Client => fixture.Client;

    private async Task<(HttpStatusCode Status, JsonElement Body)> AdminAsync(HttpMethod method, string path, object? body = null, string? token = null)
    {
        using var response = await Client.SendAsync(method, path, body, bearer: token ?? Client.OperatorToken);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static string Code(JsonElement problem) => problem.GetProperty("code").GetString()!;

    [Fact]
    public async Task A_created_operator_works_at_once_its_token_is_shown_once_and_a_revoked_one_is_refused_at_once()
    {
        var id = "op-" + Guid.NewGuid().ToString("N")[..8];
        var (created, body) = await AdminAsync(HttpMethod.Post, "/admin/v1/operators", new { id, roles = new[] { "operator" }, expiresInDays = 7, reason = "on call" });
        Assert.Equal(HttpStatusCode.Created, created);
        var token = body.GetProperty("token").GetString()!;
        Assert.StartsWith("gpmo_", token);

        var (_, me) = await AdminAsync(HttpMethod.Get, "/admin/v1/operators/me", token: token);
        Assert.Equal(id, me.GetProperty("id").GetString());
        Assert.Equal(["operator"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));

        var (_, list) = await AdminAsync(HttpMethod.Get, "/admin/v1/operators");
        var listed = list.GetProperty("operators").EnumerateArray().Single(o => o.GetProperty("id").GetString() == id);
        Assert.Equal("active", listed.GetProperty("status").GetString());
        Assert.Equal("operator:tester", listed.GetProperty("createdBy").GetString());
        Assert.DoesNotContain(token, list.ToString());
        Assert.Equal(0, fixture.Node.Journal.RowsMentioningAnywhere(token));

        var (revoked, _) = await AdminAsync(HttpMethod.Delete, $"/admin/v1/operators/{id}?reason=left%20the%20rota");
        Assert.Equal(HttpStatusCode.OK, revoked);
        var (refused, problem) = await AdminAsync(HttpMethod.Get, "/admin/v1/operators/me", token: token);
        Assert.Equal(HttpStatusCode.Unauthorized, refused);
        Assert.Equal("token_revoked", Code(problem));
        Assert.Equal(1, fixture.Node.Journal.RowsMentioning("operators.evt.revoked", id, "left the rota"));
        Assert.Equal(1, fixture.Node.Journal.RowsMentioning("operators.evt.access-refused", $"operator:{id}", "token_revoked"));
    }

    [Fact]
    public async Task The_bootstrap_token_is_closed_once_the_first_admin_exists()
    {
        var (status, problem) = await AdminAsync(HttpMethod.Post, "/admin/v1/operators", new { id = "second-root", roles = new[] { "admin" }, reason = "x" },
            token: PaymasterClient.BootstrapToken);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("bootstrap_closed", Code(problem));
    }

    [Theory]
    [InlineData("admin")]
    [InlineData("approver")]
    public async Task An_admin_granting_a_privileged_role_directly_is_told_to_use_the_timelock(string role)
    {
        var id = "p-" + Guid.NewGuid().ToString("N")[..8];
        var (status, problem) = await AdminAsync(HttpMethod.Post, "/admin/v1/operators", new { id, roles = new[] { "viewer", role }, reason = "x" });

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("timelock_required", Code(problem));
        Assert.Equal(0, fixture.Node.Journal.RowsMentioning("operators.evt.created", $"\"{id}\""));
    }

    [Fact]
    public async Task A_dapp_scoped_operator_touches_no_chain_and_a_chain_scoped_one_no_dapp()
    {
        var (dappId, _) = await Client.RegisterDappAsync("scoped");
        var id = "s-" + Guid.NewGuid().ToString("N")[..8];
        var (_, created) = await AdminAsync(HttpMethod.Post, "/admin/v1/operators", new { id, roles = new[] { "operator" }, scope = new { dapps = new[] { dappId } }, reason = "dApp desk" });
        var dappDesk = created.GetProperty("token").GetString()!;
        var (_, chainCreated) = await AdminAsync(HttpMethod.Post, "/admin/v1/operators",
            new { id = id + "c", roles = new[] { "operator" }, scope = new { chains = new[] { 31337 } }, reason = "chain desk" });
        var chainDesk = chainCreated.GetProperty("token").GetString()!;

        var (pause, refused) = await AdminAsync(HttpMethod.Post, "/admin/v1/pools/31337/pause", new { reason = "not mine" }, dappDesk);
        var (freeze, refusedToo) = await AdminAsync(HttpMethod.Post, $"/admin/v1/dapps/{dappId}/freeze", new { reason = "not mine" }, chainDesk);
        var (own, _) = await AdminAsync(HttpMethod.Get, $"/admin/v1/dapps/{dappId}/policy", token: dappDesk);
        var (empty, _) = await AdminAsync(HttpMethod.Post, "/admin/v1/operators", new { id = id + "e", roles = new[] { "viewer" }, scope = new { }, reason = "x" });

        Assert.Equal((HttpStatusCode.Forbidden, "out_of_scope"), (pause, Code(refused)));
        Assert.Equal((HttpStatusCode.Forbidden, "out_of_scope"), (freeze, Code(refusedToo)));
        Assert.Equal(HttpStatusCode.OK, own);
        Assert.Equal(HttpStatusCode.BadRequest, empty);
    }

    [Fact]
    public async Task A_new_token_replaces_the_old_one_at_once_and_the_bootstrap_id_is_reserved()
    {
        var id = "r-" + Guid.NewGuid().ToString("N")[..8];
        var (_, created) = await AdminAsync(HttpMethod.Post, "/admin/v1/operators", new { id, roles = new[] { "viewer" }, reason = "rota" });
        var old = created.GetProperty("token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await AdminAsync(HttpMethod.Get, "/admin/v1/operators/me", token: old)).Status);

        var (rotated, body) = await AdminAsync(HttpMethod.Post, $"/admin/v1/operators/{id}/token", new { expiresInDays = 30, reason = "laptop lost" });
        var fresh = body.GetProperty("token").GetString()!;
        var (oldStatus, oldProblem) = await AdminAsync(HttpMethod.Get, "/admin/v1/operators/me", token: old);
        var (reserved, _) = await AdminAsync(HttpMethod.Post, "/admin/v1/operators", new { id = "bootstrap", roles = new[] { "viewer" }, reason = "x" });

        Assert.Equal(HttpStatusCode.OK, rotated);
        Assert.Equal((HttpStatusCode.Unauthorized, "unauthorized"), (oldStatus, Code(oldProblem)));
        Assert.Equal(HttpStatusCode.OK, (await AdminAsync(HttpMethod.Get, "/admin/v1/operators/me", token: fresh)).Status);
        Assert.Equal(1, fixture.Node.Journal.RowsMentioning("operators.evt.token-rotated", $"\"{id}\"", "laptop lost"));
        Assert.Equal(HttpStatusCode.BadRequest, reserved);
    }

    [Theory]
    [InlineData("{\"id\":\"Bad Id\",\"roles\":[\"viewer\"],\"reason\":\"x\"}")]
    [InlineData("{\"id\":\"ok\",\"roles\":[],\"reason\":\"x\"}")]
    [InlineData("{\"id\":\"ok\",\"roles\":[\"root\"],\"reason\":\"x\"}")]
    [InlineData("{\"id\":\"ok\",\"roles\":[\"viewer\"]}")]
    [InlineData("{\"id\":\"ok\",\"roles\":[\"viewer\"],\"reason\":\"x\",\"expiresInDays\":366}")]
    [InlineData("{\"id\":\"ok\",\"roles\":[\"viewer\"],\"reason\":\"x\",\"scope\":{\"chains\":[-1]}}")]
    [InlineData("{\"id\":\"ok\",\"roles\":[\"viewer\"],\"reason\":\"x\",\"scope\":{\"planets\":[1]}}")]
    public async Task A_bad_operator_request_is_invalid_and_creates_nothing(string json)
    {
        var rows = fixture.Node.Journal.Rows("operators", "operators.evt.created");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/operators") { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Client.OperatorToken);
        using var response = await fixture.Node.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", Code(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement));
        Assert.Equal(rows, fixture.Node.Journal.Rows("operators", "operators.evt.created"));
    }

    [Fact]
    public async Task The_dapp_list_pages_in_id_order()
    {
        await Client.RegisterDappAsync("list-a");
        await Client.RegisterDappAsync("list-b");

        var (_, first) = await AdminAsync(HttpMethod.Get, "/admin/v1/dapps?limit=1");
        var after = first.GetProperty("next").GetString()!;
        var (_, second) = await AdminAsync(HttpMethod.Get, $"/admin/v1/dapps?limit=1&after={after}");
        var (bad, _) = await AdminAsync(HttpMethod.Get, "/admin/v1/dapps?limit=0");

        Assert.Single(first.GetProperty("dapps").EnumerateArray());
        Assert.True(string.CompareOrdinal(second.GetProperty("dapps")[0].GetProperty("dappId").GetString(), after) > 0);
        Assert.Equal(HttpStatusCode.BadRequest, bad);
    }
}
