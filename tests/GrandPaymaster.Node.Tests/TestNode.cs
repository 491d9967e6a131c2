using System.Globalization;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Node.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// A real node in this process: Kestrel on a free loopback port, remoting on a free port, the SQLite
/// journal in <see cref="DataDirectory"/>. Start two in a row on one directory to test a restart.
/// </summary>
public sealed class TestNode : IAsyncDisposable
{
    private TestNode(WebApplication app, string dataDirectory, HttpClient http, string adminToken)
    {
        App = app;
        DataDirectory = dataDirectory;
        Http = http;
        AdminToken = adminToken;
    }

    public WebApplication App { get; }
    public string DataDirectory { get; }
    public HttpClient Http { get; }

    /// <summary>The token of the test admin <c>tester</c> (see <see cref="PaymasterClient.FirstAdminAsync"/>).</summary>
    public string AdminToken { get; }

    public PaymasterClient Client => new(Http, AdminToken);

    /// <summary>
    /// An operator created by the test admin through the API, its token; <paramref name="grant"/> is given as an executed
    /// <c>operator.grant</c> would give it (the timelock itself is tested on its own, in TimelockTests).
    /// </summary>
    public async Task<string> OperatorAsync(string id, string role, object? scope = null, int expiresInDays = 90, params Domain.Operators.OperatorRole[] grant)
    {
        using var response = await Client.SendAsync(HttpMethod.Post, "/admin/v1/operators",
            new { id, roles = new[] { role }, scope, expiresInDays, reason = "test setup" }, bearer: AdminToken);
        var token = (await PaymasterClient.ExpectAsync(response, System.Net.HttpStatusCode.Created)).GetProperty("token").GetString()!;
        if (grant.Length == 0) return token;
        var registry = await App.Services.GetRequiredService<Akka.Hosting.ActorRegistry>().GetAsync<Actors.Operators.OperatorRegistrySingleton>();
        var meta = new Domain.Common.Meta(App.Services.GetRequiredService<TimeProvider>().GetUtcNow(), "operator:tester", "test setup", "t");
        var answer = await Akka.Actor.Futures.Ask<Domain.Operators.OperatorProtocol.OperatorAnswer>(registry,
            new Domain.Operators.OperatorProtocol.GrantRoles(id, [.. grant], meta), TimeSpan.FromSeconds(5));
        Xunit.Assert.Null(answer.Refused);
        return token;
    }
    public JournalProbe Journal => new(DataDirectory);

    public static Task<TestNode> StartAsync(string dataDirectory, IEnumerable<(string Name, long ChainId, Uri RpcUrl)> chains, params string[] extraArgs) =>
        StartAsync(dataDirectory, chains, null, extraArgs);

    /// <param name="clock">The node's clock instead of the system's (caps that reset at a UTC midnight, say).</param>
    public static Task<TestNode> StartAsync(string dataDirectory, IEnumerable<(string Name, long ChainId, Uri RpcUrl)> chains, TimeProvider? clock,
        params string[] extraArgs) =>
        StartWithAsync(dataDirectory, chains, clock is null ? null : services => services.AddSingleton(clock), extraArgs);

    /// <param name="overrides">Replaces services after the node's own (a recording wrapper around one, say).</param>
    public static async Task<TestNode> StartWithAsync(string dataDirectory, IEnumerable<(string Name, long ChainId, Uri RpcUrl)> chains,
        Action<IServiceCollection>? overrides, params string[] extraArgs)
    {
        var args = Arguments(dataDirectory, "http://127.0.0.1:0", chains);
        args.Add("--Logging:LogLevel:Default=Warning");
        args.AddRange(extraArgs);
        var app = NodeApp.Build(args.ToArray(), overrides);
        await app.StartAsync();
        var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        return new TestNode(app, dataDirectory, http, await PaymasterClient.FirstAdminAsync(http, dataDirectory));
    }

    /// <summary>
    /// A test node's command line: free remoting port, the given chains (with the forwarder <see cref="TestContracts"/> deploys), the test bootstrap token. The data
    /// directory doubles as content root, so the node's own appsettings.json does not leak in.
    /// </summary>
    public static List<string> Arguments(string dataDirectory, string url, IEnumerable<(string Name, long ChainId, Uri RpcUrl)> chains)
    {
        Directory.CreateDirectory(dataDirectory);
        var args = new List<string>
        {
            "--contentRoot", dataDirectory,
            "--urls", url,
            "--Gpm:Node:Port=0",
            $"--Gpm:Persistence:DataDirectory={dataDirectory}",
            $"--Gpm:Admin:BootstrapToken={PaymasterClient.BootstrapToken}",
            // Every test on a node shares the loopback address: its budget for requests without a valid key is widened here
            // (PolicyTests checks the real one on a node of its own).
            "--Gpm:Policy:Hocon=gpm.policy.unauthenticated { per-second = 1000, burst = 1000 }",
            // Test chains fund pool wallets with a few coins and no vault: the Orchestrator stays quiet unless a test sets its own
            // thresholds (TreasuryScenarioTests, TreasuryCrashTests).
            "--Gpm:Treasury:Hocon=gpm.treasury.thresholds { min = \"0.5 ether\", warning = \"1 ether\", target = \"2 ether\", ceiling = \"100000 ether\", min-top-up = \"1 ether\" }",
        };
        var i = 0;
        foreach (var (name, chainId, rpcUrl) in chains)
        {
            args.Add(string.Create(CultureInfo.InvariantCulture, $"--Gpm:Chains:{i}:Name={name}"));
            args.Add(string.Create(CultureInfo.InvariantCulture, $"--Gpm:Chains:{i}:ChainId={chainId}"));
            args.Add(string.Create(CultureInfo.InvariantCulture, $"--Gpm:Chains:{i}:RpcUrls:0={rpcUrl}"));
            args.Add(string.Create(CultureInfo.InvariantCulture, $"--Gpm:Chains:{i}:Forwarder={TestContracts.For(chainId).Forwarder}"));
            i++;
        }

        return args;
    }

    public static IEnumerable<(string, long, Uri)> ChainsOf(DevnetLauncher launcher) =>
        launcher.Chains.Select(c => (c.Spec.Name, c.Spec.ChainId, c.RpcUrl));

    /// <summary>Polls <paramref name="path"/> until it answers <paramref name="status"/> or the time is up; returns the last answer.</summary>
    public async Task<HttpResponseMessage> WaitForStatusAsync(string path, System.Net.HttpStatusCode status, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var response = await Http.GetAsync(path);
            if (response.StatusCode == status || DateTime.UtcNow > deadline) return response;
            response.Dispose();
            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
