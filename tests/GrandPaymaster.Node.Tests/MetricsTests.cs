using System.Globalization;
using System.Net;
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
        for (var i = 0; i < 3; i++)
        {
            var user = ForwardedUser.New();
            var quote = await user.QuoteAsync(client, apiKey, ChainId, recorder);
            using var executed = await user.ExecuteAsync(client, apiKey, quote);
            await PaymasterClient.ExpectAsync(executed, HttpStatusCode.Accepted);
            await client.WaitForStatusAsync(apiKey, quote.GetProperty("quoteId").GetString()!, "settled", TimeSpan.FromSeconds(60));
        }

        // Settlements are counted when the dApp journals them, a moment before the status answers; give it a second.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        var after = await ScrapeAsync();
        while (Value(after, "gpm_transactions_total", "chain=\"31337\",outcome=\"settled\"") - Value(before, "gpm_transactions_total", "chain=\"31337\",outcome=\"settled\"") < 3
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
