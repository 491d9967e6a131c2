using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace GrandPaymaster.Cli.Tests;

/// <summary>
/// gpm against a running node process (real anvil chains, real SQLite journal, real HTTP), the way an operator uses it:
/// in this process through its entry point, and once as the <c>gpm</c> program with its output in a pipe.
/// </summary>
public sealed class EndToEndTests(RunningNode node) : IClassFixture<RunningNode>
{
    private async Task<GpmResult> GpmAsync(params string[] args) =>
        await Gpm.RunAsync(args, new Dictionary<string, string> { ["GPM_URL"] = node.Url.ToString(), ["GPM_TOKEN"] = await node.AdminTokenAsync() });

    private static JsonElement Pool(GpmResult list, long chainId) =>
        list.Json.ValueKind == JsonValueKind.Array
            ? list.Json.EnumerateArray().Single(p => p.GetProperty("chainId").GetInt64() == chainId)
            : list.Json.GetProperty("pools").EnumerateArray().Single(p => p.GetProperty("chainId").GetInt64() == chainId);

    private static void Ok(GpmResult result) => Assert.True(result.ExitCode == 0, result.ToString());

    [Fact]
    public async Task An_operator_reads_pools_market_and_dapps_and_freezes_and_unfreezes_a_dapp()
    {
        var pools = await GpmAsync("pool", "list", "--json");
        Ok(pools);
        Assert.Equal(("devnet-a", "normal"), (Pool(pools, 31337).GetProperty("name").GetString(), Pool(pools, 31337).GetProperty("mode").GetString()));
        Assert.Equal("devnet-b", Pool(pools, 31338).GetProperty("name").GetString());

        var table = await GpmAsync("pool", "list");
        Ok(table);
        Assert.Matches(@"(?m)^\s*31337\s+devnet-a\s+normal\s", table.Out);
        Assert.DoesNotContain('\u001b', table.Out);

        var pool = await GpmAsync("pool", "show", "31337", "--json");
        Ok(pool);
        Assert.Equal(31337, pool.Json.GetProperty("chainId").GetInt64());

        var market = await GpmAsync("market", "show", "--json");
        Ok(market);
        var chains = market.Json.ValueKind == JsonValueKind.Array ? market.Json : market.Json.GetProperty("chains");
        Assert.Equal([31337L, 31338L], chains.EnumerateArray().Select(c => c.GetProperty("chainId").GetInt64()).Order());
        Assert.All(chains.EnumerateArray(), c => Assert.True(c.TryGetProperty("state", out _)));
        var oneMarket = await GpmAsync("market", "show", "31338");
        Ok(oneMarket);
        Assert.Contains("Market of chain 31338 (devnet-b)", oneMarket.Out);
        Assert.Contains("Gas sources", oneMarket.Out);

        var dappId = await RegisterDappAsync("cli e2e dapp");
        var shown = await GpmAsync("dapp", "show", dappId, "--json");
        Ok(shown);
        Assert.Equal((dappId, "active"), (shown.Json.GetProperty("dappId").GetString(), shown.Json.GetProperty("status").GetString()));

        var noReason = await GpmAsync("dapp", "freeze", dappId);
        Assert.Equal(ExitCodes.Usage, noReason.ExitCode);

        var frozen = await GpmAsync("dapp", "freeze", dappId, "--reason", "e2e: abuse report");
        Ok(frozen);
        Assert.Contains($"dApp {dappId} is frozen.", frozen.Out);
        Assert.Equal("frozen", (await GpmAsync("dapp", "show", dappId, "--json")).Json.GetProperty("status").GetString());

        var unfrozen = await GpmAsync("dapp", "unfreeze", dappId, "--reason", "e2e: report cleared", "--json");
        Ok(unfrozen);
        Assert.Equal("active", unfrozen.Json.GetProperty("status").GetString());

        var policy = await GpmAsync("dapp", "policy", dappId);
        Ok(policy);
        Assert.Contains($"Policy of dApp {dappId}", policy.Out);

        var missing = await GpmAsync("dapp", "show", "d-0000000000000000");
        Assert.Equal(ExitCodes.Refused, missing.ExitCode);
        Assert.Contains("error: dapp_not_found:", missing.Error);

        var wrongToken = await Gpm.RunAsync(["pool", "list", "--url", node.Url.ToString(), "--token", "not-a-token"]);
        Assert.Equal(ExitCodes.Refused, wrongToken.ExitCode);
        Assert.Contains("error: unauthorized:", wrongToken.Error);
    }

    [Fact]
    public async Task The_gpm_program_prints_plain_text_into_a_pipe_and_json_for_scripts()
    {
        var plain = await RunProgramAsync("pool", "list");
        var json = await RunProgramAsync("market", "show", "31337", "--json");
        var usage = await RunProgramAsync("pool", "pause");

        Ok(plain);
        Assert.Matches(@"(?m)^\s*chain\s+name\s+mode\s", plain.Out);
        Assert.Matches(@"(?m)^\s*31338\s+devnet-b\s", plain.Out);
        Assert.DoesNotContain('\u001b', plain.Out);
        Ok(json);
        Assert.Equal(31337, json.Json.GetProperty("chainId").GetInt64());
        Assert.Equal(ExitCodes.Usage, usage.ExitCode);
    }

    /// <summary>
    /// The acceptance of issue 10 for gpm: pause a pool, see it in <c>pool list --json</c>, resume it, verify the audit.
    /// Needs the routes the contract adds (pools pause/resume, audit query and verify).
    /// </summary>
    [Fact]
    public async Task An_operator_pauses_a_pool_sees_it_in_the_list_resumes_it_and_the_audit_verifies()
    {
        var paused = await GpmAsync("pool", "pause", "31337", "--reason", "e2e: planned maintenance");
        Ok(paused);
        Assert.Contains("Pool 31337 is paused", paused.Out);

        var whilePaused = Pool(await GpmAsync("pool", "list", "--json"), 31337);
        Assert.Equal(("paused", "manual", "e2e: planned maintenance"),
            (whilePaused.GetProperty("mode").GetString(), whilePaused.GetProperty("cause").GetString(), whilePaused.GetProperty("reason").GetString()));
        Assert.Equal("normal", Pool(await GpmAsync("pool", "list", "--json"), 31338).GetProperty("mode").GetString());

        var resumed = await GpmAsync("pool", "resume", "31337", "--reason", "e2e: maintenance done", "--json");
        Ok(resumed);
        Assert.Equal("normal", resumed.Json.GetProperty("mode").GetString());
        Assert.Equal("normal", Pool(await GpmAsync("pool", "list", "--json"), 31337).GetProperty("mode").GetString());

        var trail = await GpmAsync("audit", "tail", "--actor", $"operator:{RunningNode.AdminId}", "--limit", "500", "--json");
        Ok(trail);
        var reasons = trail.Json.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("reason").GetString()).ToArray();
        Assert.Contains("e2e: planned maintenance", reasons);
        Assert.Contains("e2e: maintenance done", reasons);

        var verify = await GpmAsync("audit", "verify");
        Ok(verify);
        Assert.Contains("Audit log intact", verify.Out);
        var verifyJson = await GpmAsync("audit", "verify", "--json");
        Ok(verifyJson);
        Assert.True(verifyJson.Json.GetProperty("ok").GetBoolean());
    }

    private async Task<string> RegisterDappAsync(string name)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/dapps") { Content = JsonContent.Create(new { name }) };
        request.Headers.Authorization = new("Bearer", await node.AdminTokenAsync());
        using var response = await node.Http.SendAsync(request);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body.GetProperty("dappId").GetString()!;
    }

    /// <summary>Runs the built gpm program as a child process, its standard output and error redirected (not a terminal).</summary>
    private async Task<GpmResult> RunProgramAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        info.ArgumentList.Add(RunningNode.GpmAssembly);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["GPM_URL"] = node.Url.ToString();
        info.Environment["GPM_TOKEN"] = await node.AdminTokenAsync();
        info.Environment["GPM_CONFIG"] = "";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return new GpmResult(process.ExitCode, await output, await error);
    }
}
