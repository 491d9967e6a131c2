using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Numerics;
using System.Text.Json;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Microsoft.Extensions.DependencyInjection;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// S7 (spam dApp), S8 (fraud pattern), S9 (denylist) and S10 (caps) against a real node on anvil, plus the bounds an
/// outsider meets (unknown keys, open quotes). Every refusal is checked in the journal too: no hold, and who and why for
/// every change.
/// </summary>
[Collection(GuardedNodeCollection.Name)]
public sealed class PolicyScenarioTests(GuardedNodeFixture fixture)
{
    private const long ChainId = GuardedNodeFixture.ChainId;
    private const string Target = "0x2222222222222222222222222222222222222222";
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);

    private PaymasterClient Client => fixture.Client;

    /// <summary>A direct call's quote; without <paramref name="sender"/> each quote is for a new user (the per-wallet rule stays out of the way).</summary>
    private static object DirectQuote(string? sender = null, string to = Target) =>
        new { chainId = ChainId, sender = sender ?? RandomWallet(), to, gasLimit = "21000", feeToken = "USDT", callType = "direct" };

    private static string RandomWallet() => "0x" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));

    private static async Task<string> CodeOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString()!;

    private Task<HttpResponseMessage> Admin(HttpMethod method, string path, object? body) => Client.SendAsync(method, path, body, bearer: Client.OperatorToken);

    [Fact]
    public async Task S7_a_flooding_dapp_alone_is_throttled_with_retry_after_and_another_dapps_quotes_stay_fast()
    {
        var (floodId, floodKey) = await fixture.FundedDappAsync("Spammy", Target);
        var (_, calmKey) = await fixture.FundedDappAsync("Calm", Target);
        using (var policy = await Admin(HttpMethod.Put, $"/admin/v1/dapps/{floodId}/policy", new { quotesPerSecond = 5, reason = "S7 test: small bucket" }))
            await PaymasterClient.ExpectAsync(policy, HttpStatusCode.OK);
        var alone = await QuoteLatenciesAsync(calmKey, 25);

        using var flooding = new CancellationTokenSource();
        var refusals = new List<(HttpStatusCode Status, string Code, string? RetryAfter, TimeSpan Took)>();
        var flood = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!flooding.IsCancellationRequested)
            {
                var watch = Stopwatch.StartNew();
                using var response = await Client.QuoteAsync(floodKey, DirectQuote());
                if (response.StatusCode == HttpStatusCode.Created) continue;
                var entry = (response.StatusCode, await CodeOf(response), response.Headers.RetryAfter?.ToString(), watch.Elapsed);
                lock (refusals) refusals.Add(entry);
            }
        })).ToArray();
        await Task.Delay(500);
        var meanwhile = await QuoteLatenciesAsync(calmKey, 25);
        await flooding.CancelAsync();
        await Task.WhenAll(flood);

        Assert.NotEmpty(refusals);
        Assert.All(refusals, r => Assert.Equal((HttpStatusCode.TooManyRequests, "throttled"), (r.Status, r.Code)));
        Assert.All(refusals, r => Assert.True(int.Parse(r.RetryAfter!, CultureInfo.InvariantCulture) is >= 1 and <= 6, $"Retry-After {r.RetryAfter}"));
        // The calm dApp is never throttled, and its p95 stays near its value without the flood (a loose bound for a shared CI
        // machine; the benchmark prints the measured figures).
        var bound = TimeSpan.FromMilliseconds(Math.Max(3 * P95(alone).TotalMilliseconds, P95(alone).TotalMilliseconds + 100));
        Assert.True(P95(meanwhile) <= bound, $"calm p95 {P95(meanwhile).TotalMilliseconds:0.0} ms with the flood, {P95(alone).TotalMilliseconds:0.0} ms without");
        // Entered once per cooldown the flood lasted (once, unless this machine made the calm quotes take longer than it).
        var entered = fixture.Node.Journal.RowsMentioning("dapp.evt.throttled", floodId, "system:edge-throttle");
        Assert.True(entered >= 1);
        Assert.Equal(0, fixture.Node.Journal.RowsMentioning("dapp.evt.throttled", DappOf(calmKey)));

        // After the cooldown the flooding dApp leaves THROTTLED by itself, journaled, and is served again.
        await AwaitAsync(() => fixture.Node.Journal.RowsMentioning("dapp.evt.throttle-lifted", floodId) == entered, TimeSpan.FromSeconds(20));
        using var again = await Client.QuoteAsync(floodKey, DirectQuote());
        await PaymasterClient.ExpectAsync(again, HttpStatusCode.Created);
    }

    [Fact]
    public async Task S8_hundreds_of_quotes_never_executed_freeze_the_dapp_and_only_an_operator_unfreezes_it_with_the_reason_on_record()
    {
        var (dappId, apiKey) = await fixture.FundedDappAsync("Farmer", Target);
        HttpStatusCode last = HttpStatusCode.Created;
        for (var i = 0; i < 100 && last == HttpStatusCode.Created; i++)
        {
            using var response = await Client.QuoteAsync(apiKey, DirectQuote());
            last = response.StatusCode;
            if (last != HttpStatusCode.Created) Assert.Equal("dapp_frozen", await CodeOf(response));
        }

        await AwaitAsync(async () =>
        {
            using var response = await Client.QuoteAsync(apiKey, DirectQuote());
            return response.StatusCode == HttpStatusCode.Forbidden && await CodeOf(response) == "dapp_frozen";
        }, TimeSpan.FromSeconds(10));
        Assert.Equal(1, fixture.Node.Journal.RowsMentioning("dapp.evt.frozen", dappId, "unexecuted-quotes"));
        Assert.Equal(1, fixture.Node.Journal.RowsMentioning("dapp.evt.frozen", dappId, "60 quotes and 0 executions"));

        // The dApp cannot unfreeze itself: its key is not an operator's.
        using (var self = await Client.SendAsync(HttpMethod.Post, $"/admin/v1/dapps/{dappId}/unfreeze", new { reason = "trust me" }, bearer: apiKey))
            Assert.Equal(HttpStatusCode.Unauthorized, self.StatusCode);
        using (var unfrozen = await Admin(HttpMethod.Post, $"/admin/v1/dapps/{dappId}/unfreeze", new { reason = "S8 review: load test by the dApp team" }))
            Assert.Equal("active", (await PaymasterClient.ExpectAsync(unfrozen, HttpStatusCode.OK)).GetProperty("status").GetString());
        Assert.Equal(1, fixture.Node.Journal.RowsMentioning("dapp.evt.unfrozen", "operator:tester", "S8 review: load test by the dApp team"));
        using var served = await Client.QuoteAsync(apiKey, DirectQuote());
        await PaymasterClient.ExpectAsync(served, HttpStatusCode.Created);
    }

    [Fact]
    public async Task S9_a_wallet_denylisted_while_its_quote_is_open_never_gets_a_hold_and_every_list_change_is_audited()
    {
        var (dappId, apiKey) = await fixture.FundedDappAsync("Listed");
        var user = ForwardedUser.New();
        var quote = await user.QuoteAsync(Client, apiKey, ChainId, fixture.Recorder);
        var quoteId = quote.GetProperty("quoteId").GetString()!;
        var wallet = user.Address.ToLowerInvariant();

        using (var added = await Admin(HttpMethod.Post, "/admin/v1/denylist", new { kind = "wallet", value = user.Address, reason = "S9: sanctions screening hit" }))
            await PaymasterClient.ExpectAsync(added, HttpStatusCode.Created);
        using (var execute = await user.ExecuteAsync(Client, apiKey, quote))
        {
            Assert.Equal(HttpStatusCode.Forbidden, execute.StatusCode);
            Assert.Equal("denylisted", await CodeOf(execute));
        }

        using (var requote = await Client.QuoteAsync(apiKey, user.QuoteBody(ChainId, fixture.Recorder)))
            Assert.Equal("denylisted", await CodeOf(requote));
        Assert.Equal(0, fixture.Node.Journal.RowsMentioning("dapp.evt.fee-deducted", quoteId));
        Assert.Equal(0, fixture.Node.Journal.RowsMentioning("dapp.evt.fee-quoted", quoteId));
        Assert.Equal(1, fixture.Node.Journal.RowsMentioning("denylist.evt.added", wallet, "S9: sanctions screening hit"));
        Assert.Equal(1, fixture.Node.Journal.RowsMentioning("denylist.evt.added", wallet, "operator:tester"));

        using (var removed = await Client.SendAsync(HttpMethod.Delete, $"/admin/v1/denylist/wallet/{wallet}?reason=S9%3A%20cleared%20on%20appeal", null,
                   bearer: Client.OperatorToken))
            await PaymasterClient.ExpectAsync(removed, HttpStatusCode.OK);
        Assert.Equal(1, fixture.Node.Journal.RowsMentioning("denylist.evt.removed", wallet, "S9: cleared on appeal"));
        // Off the list again: the quote that was refused is served (it is still open).
        using var executed = await user.ExecuteAsync(Client, apiKey, quote);
        await PaymasterClient.ExpectAsync(executed, HttpStatusCode.Accepted);
        await Client.WaitForStatusAsync(apiKey, quoteId, "settled", Within);
        LedgerLaw.AssertHolds(await Client.BalancesAsync(apiKey));
        _ = dappId;
    }

    [Fact]
    public async Task S9_a_denylisted_target_or_dapp_is_refused_before_any_hold_and_a_pattern_rule_lists_a_wallet_by_itself()
    {
        const string Contract = "0x3333333333333333333333333333333333333333";
        var (dappId, apiKey) = await fixture.FundedDappAsync("Targets", Contract);
        using (var added = await Admin(HttpMethod.Post, "/admin/v1/denylist", new { kind = "target", value = Contract, reason = "S9: drainer contract" }))
            await PaymasterClient.ExpectAsync(added, HttpStatusCode.Created);
        using (var refused = await Client.QuoteAsync(apiKey, DirectQuote(to: Contract)))
            Assert.Equal((HttpStatusCode.Forbidden, "denylisted"), (refused.StatusCode, await CodeOf(refused)));

        // More than ten quotes a minute from one wallet: the rule lists it, with its reason, author and an expiry.
        const string Busy = "0x4444444444444444444444444444444444444444";
        var (_, otherKey) = await fixture.FundedDappAsync("Busy", Target);
        var codes = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            using var response = await Client.QuoteAsync(otherKey, DirectQuote(sender: Busy));
            codes.Add(response.IsSuccessStatusCode ? "ok" : await CodeOf(response));
        }

        Assert.Equal(Enumerable.Repeat("ok", 10).Concat(["denylisted", "denylisted"]), codes);
        await AwaitAsync(() => fixture.Node.Journal.RowsMentioning("denylist.evt.added", Busy, "system:denylist-rules") == 1, TimeSpan.FromSeconds(5));
        // The quotes' sender is not verified, so the entry is for that dApp only: another dApp still quotes for the wallet.
        var (_, thirdKey) = await fixture.FundedDappAsync("Unrelated", Target);
        using (var unrelated = await Client.QuoteAsync(thirdKey, DirectQuote(sender: Busy)))
            await PaymasterClient.ExpectAsync(unrelated, HttpStatusCode.Created);
        using (var list = await Admin(HttpMethod.Get, "/admin/v1/denylist", null))
        {
            var entry = (await PaymasterClient.ExpectAsync(list, HttpStatusCode.OK)).GetProperty("entries").EnumerateArray()
                .Single(e => e.GetProperty("value").GetString() == Busy);
            Assert.Contains("wallet-quote-rate", entry.GetProperty("reason").GetString());
            Assert.True(entry.GetProperty("expiresAt").GetDateTimeOffset() > fixture.Clock.GetUtcNow());
        }

        // A whole dApp on the list: refused at the edge on every route.
        using (var added = await Admin(HttpMethod.Post, "/admin/v1/denylist", new { kind = "dapp", value = dappId, reason = "S9: chargeback fraud" }))
            await PaymasterClient.ExpectAsync(added, HttpStatusCode.Created);
        await AwaitAsync(async () =>
        {
            using var response = await Client.SendAsync(HttpMethod.Get, "/v1/balances", null, apiKey: apiKey);
            return response.StatusCode == HttpStatusCode.Forbidden && await CodeOf(response) == "denylisted";
        }, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task S10_daily_and_per_user_caps_refuse_the_quote_that_would_pass_them_and_reset_at_the_utc_day_boundary()
    {
        var (dappId, apiKey) = await fixture.FundedDappAsync("Capped");
        var alice = ForwardedUser.New();
        var bob = ForwardedUser.New();
        var carol = ForwardedUser.New();
        var first = await alice.QuoteAsync(Client, apiKey, ChainId, fixture.Recorder);
        var hold = Units(first.GetProperty("maxFee"));
        await ExecuteToSettledAsync(apiKey, alice, first);
        var spent = await SpentTodayAsync(dappId);

        // A user cap just above what Alice spent: her next quote is refused, Bob is served.
        await SetCapsAsync(dappId, daily: 1_000 * hold, perUser: spent + hold / 2);
        using (var refused = await Client.QuoteAsync(apiKey, alice.QuoteBody(ChainId, fixture.Recorder)))
        {
            Assert.Equal((HttpStatusCode.TooManyRequests, "user_cap_exceeded"), (refused.StatusCode, await CodeOf(refused)));
            Assert.NotNull(refused.Headers.RetryAfter);
        }

        await ExecuteToSettledAsync(apiKey, bob, await bob.QuoteAsync(Client, apiKey, ChainId, fixture.Recorder));

        // A daily cap just above today's spending: the next quote of anyone is refused until midnight.
        spent = await SpentTodayAsync(dappId);
        await SetCapsAsync(dappId, daily: spent + hold / 2, perUser: 1_000 * hold);
        using (var refused = await Client.QuoteAsync(apiKey, carol.QuoteBody(ChainId, fixture.Recorder)))
        {
            Assert.Equal((HttpStatusCode.TooManyRequests, "daily_cap_exceeded"), (refused.StatusCode, await CodeOf(refused)));
            var untilMidnight = new DateTimeOffset(fixture.Clock.GetUtcNow().UtcDateTime.Date.AddDays(1), TimeSpan.Zero) - fixture.Clock.GetUtcNow();
            Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, untilMidnight.TotalSeconds - 5, untilMidnight.TotalSeconds + 1);
        }

        // Past the UTC midnight of the node's clock the counters start from zero.
        var midnight = new DateTimeOffset(fixture.Clock.GetUtcNow().UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
        fixture.Clock.Advance(midnight - fixture.Clock.GetUtcNow() + TimeSpan.FromSeconds(1));
        JsonElement next = default;
        await AwaitAsync(async () =>
        {
            // The market is re-stamped by the next oracle tick after the clock jump; until then the quote may be refused as stale.
            using var response = await Client.QuoteAsync(apiKey, carol.QuoteBody(ChainId, fixture.Recorder));
            if (response.StatusCode != HttpStatusCode.Created) return false;
            next = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            return true;
        }, TimeSpan.FromSeconds(15));
        await ExecuteToSettledAsync(apiKey, carol, next);
        Assert.Equal(2, fixture.Node.Journal.RowsMentioning("dapp.evt.policy-set", dappId, "S10 test caps"));
        LedgerLaw.AssertHolds(await Client.BalancesAsync(apiKey));
    }

    [Fact]
    public async Task Unknown_keys_are_refused_at_the_edge_without_starting_an_entity_then_answered_429_once_the_ips_budget_is_spent()
    {
        var unknown = "gpm_" + Guid.NewGuid().ToString("N") + "_" + new string('a', 48);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            using var response = await Client.SendAsync(HttpMethod.Get, "/v1/balances", null, apiKey: unknown);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) Assert.NotNull(response.Headers.RetryAfter);
        }

        Assert.Contains(HttpStatusCode.Unauthorized, statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        var system = fixture.Node.App.Services.GetRequiredService<ActorSystem>();
        var state = await ClusterSharding.Get(system).ShardRegion("dapp").Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(5));
        var dappId = unknown[4..unknown.LastIndexOf('_')];
        Assert.DoesNotContain(state.Shards.SelectMany(s => s.EntityIds), id => id == dappId);
    }

    private async Task<List<TimeSpan>> QuoteLatenciesAsync(string apiKey, int count)
    {
        var latencies = new List<TimeSpan>();
        for (var i = 0; i < count; i++)
        {
            var watch = Stopwatch.StartNew();
            using var response = await Client.QuoteAsync(apiKey, DirectQuote());
            latencies.Add(watch.Elapsed);
            await PaymasterClient.ExpectAsync(response, HttpStatusCode.Created);
        }

        return latencies;
    }

    private async Task ExecuteToSettledAsync(string apiKey, ForwardedUser user, JsonElement quote)
    {
        using var executed = await user.ExecuteAsync(Client, apiKey, quote);
        await PaymasterClient.ExpectAsync(executed, HttpStatusCode.Accepted);
        await Client.WaitForStatusAsync(apiKey, quote.GetProperty("quoteId").GetString()!, "settled", Within);
    }

    private async Task<BigInteger> SpentTodayAsync(string dappId)
    {
        using var response = await Admin(HttpMethod.Get, $"/admin/v1/dapps/{dappId}/policy", null);
        return Units((await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK)).GetProperty("spentToday").GetProperty("USDT"));
    }

    private async Task SetCapsAsync(string dappId, BigInteger daily, BigInteger perUser)
    {
        var limits = new Dictionary<string, object> { ["USDT"] = new { daily = daily.ToString(CultureInfo.InvariantCulture), perUserDaily = perUser.ToString(CultureInfo.InvariantCulture) } };
        using var response = await Admin(HttpMethod.Put, $"/admin/v1/dapps/{dappId}/policy", new { limits, reason = "S10 test caps" });
        await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK);
    }

    private static BigInteger Units(JsonElement value) => BigInteger.Parse(value.GetString()!, CultureInfo.InvariantCulture);

    private static TimeSpan P95(List<TimeSpan> latencies) => latencies.Order().ElementAt((int)Math.Ceiling(latencies.Count * 0.95) - 1);

    private static string DappOf(string apiKey) => apiKey[4..apiKey.LastIndexOf('_')];

    private static async Task AwaitAsync(Func<bool> condition, TimeSpan within) => await AwaitAsync(() => Task.FromResult(condition()), within);

    private static async Task AwaitAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"not within {within.TotalSeconds:0} s");
            await Task.Delay(100);
        }
    }
}
