using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Operators;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Operators;
using GrandPaymaster.Node.Api;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// The README's authorisation table, checked against a real node: the table names every admin route with the role the route
/// declares, and every route × (each role, revoked, expired, missing, another operator's scope) answers as the README says.
/// A refused viewer is in the audit log (S12c).
/// </summary>
public sealed partial class AuthorizationMatrixTests : IAsyncLifetime
{
    private const long ChainId = 31337;
    private readonly HttpClient _chainHttp = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "gpm-authz-" + Guid.NewGuid().ToString("N"));
    private readonly ShiftedClock _clock = new(TimeSpan.Zero);
    private DevnetLauncher _chains = null!;
    private TestNode _node = null!;

    /// <summary>A token and what it is: a role, or a state that is refused whatever the role.</summary>
    private sealed record Caller(string Name, string? Token, OperatorRole? Role = null, bool Scoped = false, string? RefusedAs = null, OperatorRole[]? AlsoHolds = null);

    public async Task InitializeAsync()
    {
        _chains = await DevnetLauncher.StartAsync([new DevnetChainSpec("devnet-a", ChainId, DevnetChainSpec.FreeLoopbackPort())], _chainHttp);
        await TestContracts.DeployAsync(new GrandPaymaster.Chain.Rpc.EthRpcClient(_chainHttp, _chains.Chains[0].RpcUrl), ChainId);
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
    public void The_readme_table_names_every_admin_route_with_the_role_it_declares()
    {
        var declared = AdminRoutes().Select(r => $"{r.Method} {r.Pattern} {r.Role.Name()}").Order().ToArray();
        var documented = ReadmeTable().Select(r => $"{r.Method} {r.Pattern} {r.Role.Name()}").Order().ToArray();

        Assert.NotEmpty(declared);
        Assert.Equal(declared, documented);
    }

    [Fact]
    public async Task Every_admin_route_answers_each_role_and_token_state_as_the_readme_says()
    {
        var client = _node.Client;
        var (dappId, _) = await client.RegisterDappAsync("authz");
        var callers = await CallersAsync(client, dappId);
        var failures = new List<string>();
        var refusedViewer = 0;

        foreach (var route in ReadmeTable())
        foreach (var caller in callers)
        {
            var (status, code) = await CallAsync(route, caller, dappId);
            var expected = Expected(route, caller);
            var ok = expected switch
            {
                "authorized" => status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) ||
                                (status == HttpStatusCode.Forbidden && code is not ("forbidden" or "out_of_scope")),
                _ => $"{(int)status} {code}" == expected,
            };
            if (!ok) failures.Add($"{route.Method} {route.Pattern} as {caller.Name}: expected {expected}, got {(int)status} {code}");
            if (caller.Name == "viewer" && expected.StartsWith("403", StringComparison.Ordinal)) refusedViewer++;
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
        // S12c: every refusal of the viewer is in the audit log, with who and what.
        Assert.True(refusedViewer > 0);
        Assert.Equal(refusedViewer, _node.Journal.RowsMentioning("operators.evt.access-refused", "operator:viewer"));
    }

    /// <summary>What the README says a caller gets from a route: a status and code, or <c>authorized</c> (the handler answers).</summary>
    private static string Expected(Route route, Caller caller)
    {
        if (caller.Token is null) return "401 unauthorized";
        if (caller.RefusedAs is { } refused) return refused;
        if (!caller.Role!.Value.Grants(route.Role) && caller.AlsoHolds?.Any(r => r.Grants(route.Role)) != true) return "403 forbidden";
        if (caller.Scoped && (route.Pattern.Contains("{chainId}", StringComparison.Ordinal) || route.Pattern.Contains("{dappId}", StringComparison.Ordinal) ||
                              route.Method != "GET"))
            return "403 out_of_scope";
        return "authorized";
    }

    /// <summary>One operator per role, one scoped to another chain and dApp (holding every role), one revoked and one expired admin.</summary>
    private async Task<IReadOnlyList<Caller>> CallersAsync(PaymasterClient client, string dappId)
    {
        Task<string> Create(string id, string role, object? scope = null, int days = 90, params OperatorRole[] grant) =>
            _node.OperatorAsync(id, role, scope, days, grant);

        var callers = new List<Caller>
        {
            new("viewer", await Create("viewer", "viewer"), OperatorRole.Viewer),
            new("operator", await Create("operator", "operator"), OperatorRole.Operator),
            new("approver", await Create("approver", "viewer", grant: OperatorRole.Approver), OperatorRole.Approver),
            new("admin", client.OperatorToken, OperatorRole.Admin),
            new("other-scope", await Create("scoped", "operator", new { chains = new[] { 999_999 }, dapps = new[] { "d-someone-else" } }, 90,
                OperatorRole.Admin, OperatorRole.Approver), OperatorRole.Admin, Scoped: true, AlsoHolds: [OperatorRole.Approver]),
            new("missing", null),
        };
        var revoked = await Create("revoked", "operator", grant: OperatorRole.Admin);
        using (var revoke = await client.SendAsync(HttpMethod.Delete, "/admin/v1/operators/revoked?reason=left%20the%20team", null, bearer: client.OperatorToken))
            await PaymasterClient.ExpectAsync(revoke, HttpStatusCode.OK);
        callers.Add(new Caller("revoked", revoked, RefusedAs: "401 token_revoked"));
        callers.Add(new Caller("expired", await Create("expired", "operator", days: 1, grant: OperatorRole.Admin), RefusedAs: "401 token_expired"));
        // Two days later the one-day token has expired; the others (90 days) have not.
        _clock.Advance(TimeSpan.FromDays(2));
        return callers;
    }

    private async Task<(HttpStatusCode Status, string? Code)> CallAsync(Route route, Caller caller, string dappId)
    {
        var path = Placeholder().Replace(route.Pattern, m => m.Groups[1].Value switch
        {
            "chainId" => ChainId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "dappId" => dappId,
            "kind" => "wallet",
            "value" or "target" => "0x000000000000000000000000000000000000dead",
            _ => "no-such-" + m.Groups[1].Value.ToLowerInvariant(),
        });
        using var request = new HttpRequestMessage(new HttpMethod(route.Method), path);
        // An empty body: an authorised call is refused by the handler's validation and changes nothing.
        if (route.Method is "POST" or "PUT") request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        if (caller.Token is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", caller.Token);
        using var response = await _node.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.Content.Headers.ContentType?.MediaType != Problems.ContentType) return (response.StatusCode, null);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return (response.StatusCode, problem.GetProperty("code").GetString());
    }

    private sealed record Route(string Method, string Pattern, OperatorRole Role);

    private IEnumerable<Route> AdminRoutes() =>
        _node.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/admin", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["ANY"])
                .Select(method => new Route(method, e.RoutePattern.RawText!,
                    e.Metadata.GetMetadata<RequiredRole>()?.Role ?? throw new InvalidOperationException($"{e.RoutePattern.RawText} declares no role"))));

    private static IEnumerable<Route> ReadmeTable()
    {
        var readme = File.ReadAllText(FindUp("README.md"));
        var start = readme.IndexOf("<!-- admin-routes -->", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no <!-- admin-routes --> table");
        foreach (var line in readme[start..].Split('\n').Skip(3).TakeWhile(l => l.StartsWith('|')))
        {
            var match = Row().Match(line);
            Assert.True(match.Success, $"README admin route row not understood: {line}");
            Assert.True(OperatorRoles.TryParse(match.Groups[3].Value, out var role), $"unknown role in: {line}");
            yield return new Route(match.Groups[1].Value, match.Groups[2].Value, role);
        }
    }

    private static string FindUp(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, file)))
                return Path.Combine(dir.FullName, file);
        throw new FileNotFoundException(file);
    }

    [GeneratedRegex(@"^\| `(GET|POST|PUT|DELETE) (/admin/v1/[^`]*)` \| (\w+) \|")]
    private static partial Regex Row();

    [GeneratedRegex(@"\{(\w+)\}")]
    private static partial Regex Placeholder();
}
