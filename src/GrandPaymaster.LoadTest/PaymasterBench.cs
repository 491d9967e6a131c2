using GrandPaymaster.LoadTest.Engine;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Wallets;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Pools;
using GrandPaymaster.Node.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace GrandPaymaster.LoadTest;

/// <summary>
/// A real node for the load scenarios: two anvil chains on free loopback ports with the project's contracts deployed
/// as the devnet does, the node in this process on a free port with a fresh SQLite journal and the policy limits of
/// <see cref="RaisedLimits"/> raised, one registered and funded dApp (more on demand, <see cref="RegisterDappAsync"/>), and
/// a ring of users (keys holding no ETH) whose calls to SenderRecorder go through the forwarder.
/// </summary>
public sealed class PaymasterBench : IAsyncDisposable
{
    private const string BootstrapToken = "bench-bootstrap-token-creates-the-first-admin";
    private string _operatorToken = "";
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "gpm-bench-node-" + Guid.NewGuid().ToString("N"));
    private readonly HttpClient _chainHttp = new() { Timeout = Timeout.InfiniteTimeSpan };
    private DevnetLauncher _chains = null!;
    private Microsoft.AspNetCore.Builder.WebApplication _node = null!;

    /// <summary>
    /// The policy limits the bench node raises above hocon/policy.hocon (passed as <c>--Gpm:Policy:Hocon</c>), each with why:
    /// the bench's own traffic is what the default rules are written to catch. Everything else keeps its default.
    /// </summary>
    public static readonly IReadOnlyList<(string Setting, string Why)> RaisedLimits =
    [
        ("gpm.policy.quotes.max-open = 1000000",
            "the bench quotes up to ~18,000/s and executes few, and quotes live 60 s; the 4 MiB of call data per dApp stays at its default"),
        ("gpm.policy.fraud.unexecuted-quotes.min-quotes = 1000000000", "the quote scenarios never execute: far more than 50 quotes per execute"),
        ("gpm.policy.fraud.fresh-senders.max = 1000000000", "2,000+ users never seen before, and random senders, every minute"),
        ("gpm.policy.denylist.wallet-quotes-per-minute = 1000000000", "the direct-call quotes all use sender 0x1111…, thousands of times a second"),
    ];

    public HttpClient Http { get; private set; } = null!;

    /// <summary>The bench dApp: its quote rate set to <see cref="MaxQuotesPerSecond"/> by the operator's policy route.</summary>
    public BenchDapp Dapp { get; private set; } = null!;

    public string ApiKey => Dapp.ApiKey;
    public string DappId => Dapp.Id;

    /// <summary>The highest quote rate an operator may give one dApp (<c>PUT /admin/v1/dapps/{id}/policy</c>).</summary>
    public const int MaxQuotesPerSecond = 10_000;
    public string Target { get; private set; } = "";

    /// <summary>A contract without ERC-2771 on the dApp's direct-call list: quotes for it are priced without any chain read.</summary>
    public string DirectTarget { get; private set; } = "";

    private readonly List<LatencyProxy> _proxies = [];

    /// <summary>How the bench chain mines, for the report.</summary>
    public string Mining { get; private set; } = "";

    /// <summary>Users the flow quotes for, in turn; each signs its own requests.</summary>
    public IReadOnlyList<EthKey> Users { get; } = Enumerable.Range(0, int.TryParse(Environment.GetEnvironmentVariable("GPM_BENCH_USERS"), out var n) ? n : 2_000)
        .Select(i => EthKey.Generate(new Random(90_000 + i))).ToArray();

    public static async Task<PaymasterBench> StartAsync(int maxConnections)
    {
        var bench = new PaymasterBench();
        await bench.InitializeAsync(maxConnections);
        return bench;
    }

    private async Task InitializeAsync(int maxConnections)
    {
        // With automine (GPM_BENCH_BLOCK_MS=0): a block every second besides, as `scripts/build.sh run` does, since anvil's
        // automine alone can leave transactions ready but unmined at this rate (see DevnetChainSpec).
        // GPM_BENCH_BACKSTOP_SECONDS: that backstop interval (0: automine only).
        var backstop = int.TryParse(Environment.GetEnvironmentVariable("GPM_BENCH_BACKSTOP_SECONDS"), out var seconds) ? seconds : 1;
        // GPM_BENCH_BLOCK_MS: a block every so many ms with every ready transaction, as on a chain with a block time (250 ms,
        // Arbitrum One's); 0: anvil's automine, one block per transaction, whose mining rate is then what is measured.
        var blockMs = int.TryParse(Environment.GetEnvironmentVariable("GPM_BENCH_BLOCK_MS"), out var ms) ? ms : 250;
        TimeSpan? blockTime = blockMs > 0 ? TimeSpan.FromMilliseconds(blockMs) : null;
        Mining = blockTime is { } interval ? $"a block every {interval.TotalMilliseconds:0} ms" : backstop > 0 ? $"automine, and a block every {backstop} s" : "automine";
        _chains = await DevnetLauncher.StartAsync(DevnetChainSpec.DefaultsOnFreePorts()
            .Select(spec => spec with { BackstopBlockSeconds = backstop > 0 ? backstop : null, BlockTime = blockTime }), _chainHttp);
        var wallets = new DevWallets("grand-paymaster-devnet");
        var chainA = _chains.Chains[0];
        var rpc = new EthRpcClient(_chainHttp, chainA.RpcUrl);
        // GPM_BENCH_WORKERS: hot wallets per chain (the node's default, 2, otherwise).
        var workers = int.TryParse(Environment.GetEnvironmentVariable("GPM_BENCH_WORKERS"), out var count) ? count : 2;
        await DevnetFunder.FundAsync(rpc, chainA.Spec.ChainId, AnvilDevAccounts.Key(0),
            Enumerable.Range(0, workers).Select(i => (wallets.PoolWorker(chainA.Spec.ChainId, i).Address, 1_000 * DevnetFunder.Ether)));
        var forwarders = new List<EthAddress>();
        foreach (var chain in _chains.Chains)
        {
            var deployed = await DevnetContracts.DeployAsync(new EthRpcClient(_chainHttp, chain.RpcUrl), chain.Spec.ChainId, wallets.Deployer(chain.Spec.ChainId),
                AnvilDevAccounts.Key(0));
            forwarders.Add(deployed.Forwarder);
            if (chain == chainA) Target = deployed.SenderRecorder.ToChecksumString();
        }

        DirectTarget = EthKey.Generate().Address.ToChecksumString();
        await rpc.RequestAsync("anvil_setCode", [DirectTarget, "0x600160005500"]); // PUSH1 1 PUSH1 0 SSTORE STOP

        var args = new List<string>
        {
            "--urls", "http://127.0.0.1:0", "--Gpm:Node:Port=0", $"--Gpm:Persistence:DataDirectory={_dataDirectory}", "--contentRoot", Directory.CreateDirectory(_dataDirectory).FullName,
            $"--Logging:LogLevel:Default={Environment.GetEnvironmentVariable("GPM_BENCH_LOG") ?? "Warning"}", $"--Gpm:Admin:BootstrapToken={BootstrapToken}",
            "--Gpm:Policy:Hocon=" + string.Join('\n', RaisedLimits.Select(l => l.Setting)),
        };
        args.Add(string.Create(CultureInfo.InvariantCulture, $"--Gpm:Wallets:WorkersPerChain={workers}"));
        for (var i = 0; i < _chains.Chains.Count; i++)
        {
            var c = _chains.Chains[i];
            // The node reaches each chain through a proxy that can add a distant node's latency (SetRpcLatency).
            var proxy = await LatencyProxy.StartAsync(c.RpcUrl);
            _proxies.Add(proxy);
            args.AddRange([$"--Gpm:Chains:{i}:Name={c.Spec.Name}", string.Create(CultureInfo.InvariantCulture, $"--Gpm:Chains:{i}:ChainId={c.Spec.ChainId}"), $"--Gpm:Chains:{i}:RpcUrls:0={proxy.Url}",
                $"--Gpm:Chains:{i}:Forwarder={forwarders[i]}"]);
        }

        _node = NodeApp.Build(args.ToArray());
        await _node.StartAsync();
        Http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = maxConnections, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = new Uri(_node.Urls.First()),
            Timeout = TimeSpan.FromSeconds(30),
        };
        await WaitReadyAsync();
        _operatorToken = await FirstAdminAsync();

        Dapp = await RegisterDappAsync("bench", MaxQuotesPerSecond);
    }

    /// <summary>
    /// Registers and funds another dApp as an operator would, with <see cref="DirectTarget"/> on its direct-call list and, when
    /// <paramref name="quotesPerSecond"/> is given, that quote rate (else the node's default bucket).
    /// </summary>
    public async Task<BenchDapp> RegisterDappAsync(string name, int? quotesPerSecond)
    {
        var registered = await AdminAsync(HttpMethod.Post, "/admin/v1/dapps", $"{{\"name\":\"{name}\",\"surchargeBps\":3000}}", HttpStatusCode.Created);
        var dapp = new BenchDapp(registered.GetProperty("dappId").GetString()!, registered.GetProperty("apiKey").GetString()!);
        await AdminAsync(HttpMethod.Post, $"/admin/v1/dapps/{dapp.Id}/deposits", "{\"token\":\"USDT\",\"amount\":\"1000000000000000\"}", HttpStatusCode.OK);
        await AdminAsync(HttpMethod.Post, $"/admin/v1/dapps/{dapp.Id}/direct-calls",
            $"{{\"chainId\":31337,\"target\":\"{DirectTarget}\",\"reason\":\"bench: pricing path without chain reads\"}}", HttpStatusCode.OK);
        if (quotesPerSecond is { } rate)
            await AdminAsync(HttpMethod.Put, $"/admin/v1/dapps/{dapp.Id}/policy",
                string.Create(CultureInfo.InvariantCulture, $"{{\"quotesPerSecond\":{rate},\"reason\":\"bench: load generator, quotes at thousands per second\"}}"), HttpStatusCode.OK);
        return dapp;
    }

    /// <summary>The bench's admin, created with the bootstrap token as an operator's first step on a new node; its token.</summary>
    private async Task<string> FirstAdminAsync()
    {
        using var response = await SendAsync(HttpMethod.Post, "/admin/v1/operators", "{\"id\":\"bench\",\"roles\":[\"admin\"],\"reason\":\"bench node's first admin\"}",
            bearer: BootstrapToken);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"Creating the bench admin answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("token").GetString()!;
    }

    private async Task<JsonElement> AdminAsync(HttpMethod method, string path, string body, HttpStatusCode expected)
    {
        using var response = await SendAsync(method, path, body, bearer: _operatorToken);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expected) throw new InvalidOperationException($"{method} {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary><c>record("bench")</c> on SenderRecorder.</summary>
    private const string RecordCall =
        "0xe11126480000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000000562656e6368000000000000000000000000000000000000000000000000000000";

    /// <summary>A direct call (from a pool wallet) to <see cref="DirectTarget"/>, with a gas limit: priced from the local market snapshot alone.</summary>
    public string DirectQuoteBody(string sender = "0x1111111111111111111111111111111111111111", string data = "0x", long gasLimit = 100_000) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{{\"chainId\":31337,\"sender\":\"{sender}\",\"to\":\"{DirectTarget}\",\"data\":\"{data}\",\"feeToken\":\"USDT\",\"gasLimit\":\"{gasLimit}\",\"callType\":\"direct\"}}");

    /// <summary>A sender never seen before (lower case: no checksum).</summary>
    public static string RandomSender() => "0x" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    /// <summary>
    /// What a request was answered: the status, and for a refusal the problem's <c>code</c> (<c>429 throttled</c>,
    /// <c>503 overloaded</c>…), so refusals of one status are told apart.
    /// </summary>
    public static async Task<string> OutcomeAsync(HttpResponseMessage response, CancellationToken ct = default)
    {
        var status = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        if (response.IsSuccessStatusCode) return status;
        try
        {
            var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement;
            return problem.TryGetProperty("code", out var code) ? $"{status} {code.GetString()}" : status;
        }
        catch (JsonException)
        {
            return status;
        }
    }

    /// <summary>A client of its own on the node, with <paramref name="maxConnections"/> (the bench's <see cref="Http"/> has its own cap).</summary>
    public HttpClient NewClient(int maxConnections) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = maxConnections, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = Http.BaseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>A forwarded call of <paramref name="user"/> to SenderRecorder; with a gas limit, so the quote needs no simulation.</summary>
    public string QuoteBody(EthKey user, bool withGasLimit = true) =>
        $"{{\"chainId\":31337,\"sender\":\"{user.Address.ToChecksumString()}\",\"to\":\"{Target}\",\"data\":\"{RecordCall}\",\"feeToken\":\"USDT\"{(withGasLimit ? ",\"gasLimit\":\"100000\"" : "")}}}";

    /// <summary>The user's signature of a quote's forwardRequest, as the execute body wants it.</summary>
    public static string ExecuteBody(EthKey user, JsonElement quote)
    {
        var digest = Chain.Encoding.Hex.Decode(quote.GetProperty("forwardRequest").GetProperty("signingHash").GetString()!);
        return $"{{\"signature\":\"{Chain.Encoding.Hex.Encode(user.Sign(digest).ToRsv())}\"}}";
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body, string? apiKey = null, string? bearer = null,
        string? idempotencyKey = null, CancellationToken ct = default, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        if (apiKey is not null) request.Headers.Add("X-Api-Key", apiKey);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await (client ?? Http).SendAsync(request, ct);
    }

    /// <summary>The dApp's ledger as the API reports it; the ledger law must hold after the run.</summary>
    public async Task<JsonElement> BalancesAsync(BenchDapp? dapp = null)
    {
        using var response = await SendAsync(HttpMethod.Get, "/v1/balances", null, apiKey: (dapp ?? Dapp).ApiKey);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("balances").GetProperty("USDT").Clone();
    }

    /// <summary>RPC calls chain 31337's pool has made to find receipts so far (the node's pool view).</summary>
    public async Task<long> ReceiptLookupsAsync() => (await PoolViewAsync()).GetProperty("receiptLookups").GetInt64();

    /// <summary>Chain 31337's entry in the operators' pool view.</summary>
    public async Task<JsonElement> PoolViewAsync()
    {
        using var response = await SendAsync(HttpMethod.Get, "/admin/v1/pools", null, bearer: _operatorToken);
        var pools = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return pools.EnumerateArray().Single(p => p.GetProperty("chainId").GetInt64() == 31337).Clone();
    }

    /// <summary>
    /// When transactions stay unsettled: what chain 31337 and its pool each think of every worker's lowest open
    /// transactions (nonces, attempts, whether the node knows them and in which block), to tell a stuck node from a pool bug.
    /// </summary>
    public async Task DescribeUnsettledAsync(TextWriter output)
    {
        var region = await _node.Services.GetRequiredService<ActorRegistry>().GetAsync<ChainPoolRegion>();
        var state = await region.Ask<PoolState>(new PoolCommands.GetPoolState(new ChainId(31337)), TimeSpan.FromSeconds(10));
        var rpc = new EthRpcClient(_chainHttp, _chains.Chains[0].RpcUrl);
        var head = await rpc.RequestAsync("eth_getBlockByNumber", ["latest", false]);
        output.WriteLine($"chain 31337: head {head.GetProperty("number")}, base fee {head.GetProperty("baseFeePerGas")}, txpool {await rpc.RequestAsync("txpool_status", [])}");
        var anvilOutput = _chains.Chains[0].Output.Snapshot();
        output.WriteLine(anvilOutput.Count == 0 ? "anvil wrote nothing" : $"anvil's last lines:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", anvilOutput)}");
        foreach (var wallet in state.Workers)
        {
            var open = state.Pending.Where(t => t.Wallet == wallet).OrderBy(t => t.Nonce).ToList();
            var mined = await rpc.GetTransactionCountAsync(wallet.Value, BlockTag.Latest);
            var pending = await rpc.GetTransactionCountAsync(wallet.Value, BlockTag.Pending);
            output.WriteLine($"worker {wallet}: chain nonce {mined} (pending {pending}); pool: {open.Count} open, next {state.NoncesOf(wallet).Next}, free [{string.Join(",", state.NoncesOf(wallet).Free.Keys)}]");
            foreach (var tx in open.Take(3))
            {
                output.WriteLine($"  nonce {tx.Nonce} ({tx.QuoteId}) since {tx.SubmittedAt:O}, awaiting verdict {state.AwaitingVerdict.Contains(tx.Original.TxHash)}");
                foreach (var attempt in tx.Attempts)
                {
                    var known = await rpc.RequestAsync("eth_getTransactionByHash", [attempt.TxHash]);
                    var block = known.ValueKind == JsonValueKind.Object ? known.GetProperty("blockNumber").ToString() : "unknown to the node";
                    output.WriteLine($"    {attempt.Kind} {attempt.TxHash} max fee {attempt.MaxFeePerGas}: block {block}");
                }
            }
        }
    }

    private async Task WaitReadyAsync()
    {
        for (var i = 0; i < 600; i++)
        {
            using var response = await Http.GetAsync("/health/ready");
            if (response.StatusCode == HttpStatusCode.OK) return;
            await Task.Delay(100);
        }

        throw new TimeoutException("The bench node did not become ready.");
    }

    /// <summary>Adds <paramref name="latency"/> to every RPC call the node makes, from now on.</summary>
    public void SetRpcLatency(TimeSpan latency)
    {
        foreach (var proxy in _proxies) proxy.Latency = latency;
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        await _node.StopAsync();
        await _node.DisposeAsync();
        foreach (var proxy in _proxies) await proxy.DisposeAsync();
        await _chains.DisposeAsync();
        _chainHttp.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}

/// <summary>A dApp the bench registered: its id and API key.</summary>
public sealed record BenchDapp(string Id, string ApiKey);
