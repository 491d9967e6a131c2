using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace GrandPaymaster.Node.Tests;

/// <summary>What a dApp developer and an operator do over HTTP, as the tests need it; <paramref name="operatorToken"/> is an admin's.</summary>
public sealed class PaymasterClient(HttpClient http, string? operatorToken = null)
{
    /// <summary>The test nodes' bootstrap token: it creates the first admin (<see cref="FirstAdminAsync"/>) and nothing else.</summary>
    public const string BootstrapToken = "test-bootstrap-token-creates-the-first-admin";

    private const string AdminTokenFile = "test-admin.token";

    public HttpClient Http => http;

    public string OperatorToken => operatorToken ?? throw new InvalidOperationException("This client was made without an operator token.");

    /// <summary>
    /// The token of the test admin <c>tester</c>: created with the bootstrap token on a node's first start and kept in the data
    /// directory, so a restart of the same node (or a process on the same directory) finds it again.
    /// </summary>
    /// <summary>Gives a node that joins an existing cluster (whose first admin exists) that admin's token.</summary>
    public static void UseAdmin(string dataDirectory, string token) => File.WriteAllText(Path.Combine(Directory.CreateDirectory(dataDirectory).FullName, AdminTokenFile), token);

    public static async Task<string> FirstAdminAsync(HttpClient http, string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, AdminTokenFile);
        if (File.Exists(path)) return await File.ReadAllTextAsync(path);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using var response = await new PaymasterClient(http).SendAsync(HttpMethod.Post, "/admin/v1/operators",
                new { id = "tester", roles = new[] { "admin" }, reason = "test node's first admin" }, bearer: BootstrapToken);
            // 503 while the cluster (and the registry singleton) forms
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
                continue;
            }

            var token = (await ExpectAsync(response, HttpStatusCode.Created)).GetProperty("token").GetString()!;
            await File.WriteAllTextAsync(path, token);
            return token;
        }
    }

    /// <summary>Registers a dApp; <paramref name="directCalls"/> are targets its calls may reach straight from a pool wallet (<c>callType: direct</c>).</summary>
    public async Task<(string DappId, string ApiKey)> RegisterDappAsync(string name = "Acme", int surchargeBps = 3_000,
        IEnumerable<(long ChainId, string Target)>? directCalls = null)
    {
        using var response = await SendAsync(HttpMethod.Post, "/admin/v1/dapps", new { name, surchargeBps }, bearer: OperatorToken);
        var json = await ExpectAsync(response, HttpStatusCode.Created);
        var dappId = json.GetProperty("dappId").GetString()!;
        foreach (var (chainId, target) in directCalls ?? []) await AllowDirectCallAsync(dappId, chainId, target);
        return (dappId, json.GetProperty("apiKey").GetString()!);
    }

    public async Task<JsonElement> AllowDirectCallAsync(string dappId, long chainId, string target, string reason = "test target without ERC-2771")
    {
        using var response = await SendAsync(HttpMethod.Post, $"/admin/v1/dapps/{dappId}/direct-calls", new { chainId, target, reason }, bearer: OperatorToken);
        return await ExpectAsync(response, HttpStatusCode.OK);
    }

    public async Task<JsonElement> DepositAsync(string dappId, string token, string amount)
    {
        using var response = await SendAsync(HttpMethod.Post, $"/admin/v1/dapps/{dappId}/deposits", new { token, amount, reference = "test" }, bearer: OperatorToken);
        return await ExpectAsync(response, HttpStatusCode.OK);
    }

    public Task<HttpResponseMessage> QuoteAsync(string apiKey, object body) => SendAsync(HttpMethod.Post, "/v1/quotes", body, apiKey: apiKey);

    public Task<HttpResponseMessage> ExecuteAsync(string apiKey, string quoteId, string idempotencyKey, object? body = null) =>
        SendAsync(HttpMethod.Post, $"/v1/quotes/{quoteId}/execute", body, apiKey: apiKey, idempotencyKey: idempotencyKey);

    public async Task<JsonElement> QuoteStatusAsync(string apiKey, string quoteId)
    {
        using var response = await SendAsync(HttpMethod.Get, $"/v1/quotes/{quoteId}", null, apiKey: apiKey);
        return await ExpectAsync(response, HttpStatusCode.OK);
    }

    public async Task<JsonElement> BalancesAsync(string apiKey)
    {
        using var response = await SendAsync(HttpMethod.Get, "/v1/balances", null, apiKey: apiKey);
        return await ExpectAsync(response, HttpStatusCode.OK);
    }

    /// <summary>Polls the quote until it reaches <paramref name="status"/>.</summary>
    public async Task<JsonElement> WaitForStatusAsync(string apiKey, string quoteId, string status, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var quote = await QuoteStatusAsync(apiKey, quoteId);
            if (quote.GetProperty("status").GetString() == status) return quote;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Quote {quoteId} is {quote.GetProperty("status")}, not {status}: {quote}");
            await Task.Delay(100);
        }
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body, string? apiKey = null, string? bearer = null,
        string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        if (apiKey is not null) request.Headers.Add("X-Api-Key", apiKey);
        if (bearer is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await http.SendAsync(request);
    }

    public static async Task<JsonElement> ExpectAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
