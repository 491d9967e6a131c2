using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace GrandPaymaster.Node.Tests;

/// <summary><c>/metrics</c> scraped around a short load: the counters move as the transactions do (issue 10, metrics part).</summary>
[Collection(NodeCollection.Name)]
public sealed class MetricsTests(NodeFixture fixture)
{
    private const long ChainId = 31337;

    [Fact]
    public async Task The_counters_move_as_sponsored_transactions_are_quoted_executed_and_settled()
    {
        var client = fixture.Client;
        var (dappId, apiKey) = await client.RegisterDappAsync("Metered");
        await client.DepositAsync(dappId, "USDT", "100000000");
        var before = await ScrapeAsync();

        var recorder = TestContracts.For(ChainId).SenderRecorder.ToChecksumString();
        // The load runs while /metrics is scraped (as Prometheus would): every scrape answers, and no counter goes back.
        var load = Task.Run(async () =>
        {
            for (var i = 0; i < 3; i++)
            {
                var user = ForwardedUser.New();
                var quote = await user.QuoteAsync(client, apiKey, ChainId, recorder);
                using var executed = await user.ExecuteAsync(client, apiKey, quote);
                await PaymasterClient.ExpectAsync(executed, HttpStatusCode.Accepted);
                await client.WaitForStatusAsync(apiKey, quote.GetProperty("quoteId").GetString()!, "settled", TimeSpan.FromSeconds(60));
            }
        });
        var during = new List<string>();
        while (!load.IsCompleted)
        {
            during.Add(await ScrapeAsync());
            await Task.Delay(50);
        }

        await load;
        Assert.NotEmpty(during);
        var settledSeen = during.Select(d => Value(d, "gpm_transactions_total", "chain=\"31337\",outcome=\"settled\"")).ToArray();
        Assert.Equal(settledSeen.Order(), settledSeen);

        // Settlements are counted when the dApp journals them, a moment before the status answers; give it a second.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        var after = await ScrapeAsync();
        while ((Delta(before, after, "gpm_transactions_total", "chain=\"31337\",outcome=\"settled\"") < 3
                || Delta(before, after, "gpm_slo_events", "slo=\"transaction-success\",window=\"1h\",result=\"good\"") < 3)
               && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            after = await ScrapeAsync();
        }

        Assert.True(Delta(before, after, "gpm_transactions_total", "chain=\"31337\",outcome=\"settled\"") >= 3);
        Assert.True(Delta(before, after, "gpm_execute_to_settle_seconds_count", "chain=\"31337\"") >= 3);
        Assert.True(Delta(before, after, "gpm_api_requests_total", "route=\"/v1/quotes\",status=\"201\"") >= 3);
        Assert.True(Delta(before, after, "gpm_api_requests_total", "route=\"/v1/quotes/{quoteId}/execute\",status=\"202\"") >= 3);
        Assert.True(Delta(before, after, "gpm_quote_duration_seconds_count", "") >= 3);
        Assert.Equal(1, Value(after, "gpm_pool_mode", "chain=\"31337\",mode=\"normal\""));
        Assert.Equal(0, Value(after, "gpm_pool_mode", "chain=\"31337\",mode=\"paused\""));
        Assert.Matches("gpm_gas_source_used\\{chain=\"31337\",source=\"[^\"]+\"\\} 1", after);

        // Alerts, SLOs and pool balances (issue 10, points 5 and 6).
        Assert.True(Delta(before, after, "gpm_slo_events", "slo=\"transaction-success\",window=\"1h\",result=\"good\"") >= 3);
        Assert.True(Delta(before, after, "gpm_slo_events", "slo=\"availability\",window=\"1h\",result=\"good\"") >= 6);
        Assert.True(Delta(before, after, "gpm_slo_events", "slo=\"quote-latency\",window=\"1h\",result=\"good\"") >= 3);
        Assert.Matches("gpm_slo_burn_rate\\{slo=\"availability\",window=\"1h\"\\} [0-9.eE+-]+", after);
        // The rebalance SLO is fed by the Orchestrator's finished rebalances: a figure only once there was one (never a made-up one).
        Assert.Equal(Regex.IsMatch(after, "gpm_slo_events\\{slo=\"rebalance-success\",window=\"1h\",result=\"(good|bad)\"\\} [1-9]"),
            Regex.IsMatch(after, "gpm_slo_burn_rate\\{slo=\"rebalance-success\",window=\"1h\"\\}"));
        Assert.Matches("gpm_rebalance_queue\\{priority=\"critical\"\\} [0-9]+", after);
        Assert.Matches("gpm_alerts_open\\{severity=\"critical\"\\} [0-9]+", after);
        var balance = Regex.Match(after, "^gpm_pool_balance_wei\\{chain=\"31337\",worker=\"0x[0-9a-fA-F]{40}\"\\} ([0-9.eE+-]+)$", RegexOptions.Multiline);
        Assert.True(balance.Success, "no pool balance series");
        Assert.True(double.Parse(balance.Groups[1].Value, CultureInfo.InvariantCulture) > 1e18, balance.Value); // funded with 100 ETH

        using var slo = await client.SendAsync(HttpMethod.Get, "/admin/v1/slo", null, bearer: client.OperatorToken);
        var slos = (await PaymasterClient.ExpectAsync(slo, HttpStatusCode.OK)).GetProperty("slos").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);
        Assert.Equal(["availability", "quote-latency", "transaction-success", "rebalance-success"], slos.Keys);
        var availability = slos["availability"];
        Assert.Equal(0.995, availability.GetProperty("objective").GetDouble());
        Assert.True(availability.GetProperty("windows").GetProperty("1h").GetProperty("total").GetInt64() >= 6);
        Assert.True(availability.GetProperty("windows").GetProperty("30d").GetProperty("sli").GetDouble() > 0);
        Assert.Contains(availability.GetProperty("status").GetString(), new[] { "ok", "burning", "exhausted" });
        Assert.Equal("no_data", slos["rebalance-success"].GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, slos["rebalance-success"].GetProperty("windows").GetProperty("6h").GetProperty("burnRate").ValueKind);
    }

    private async Task<string> ScrapeAsync()
    {
        using var response = await fixture.Node.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    private static double Delta(string before, string after, string metric, string labels) => Value(after, metric, labels) - Value(before, metric, labels);

    /// <summary>A sample's value in the text exposition format; 0 when the series does not exist yet.</summary>
    private static double Value(string scrape, string metric, string labels)
    {
        var series = labels.Length == 0 ? Regex.Escape(metric) : $"{Regex.Escape(metric)}\\{{{Regex.Escape(labels)}\\}}";
        var match = Regex.Match(scrape, $"^{series} ([0-9.eE+-]+)$", RegexOptions.Multiline);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }
}
