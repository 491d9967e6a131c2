using System.Net;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Wallets;

namespace GrandPaymaster.Node.Tests;

/// <summary>The system clock moved by an offset a test can change (a UTC midnight a few minutes away, say).</summary>
public sealed class ShiftedClock(TimeSpan offset) : TimeProvider
{
    private long _offsetTicks = offset.Ticks;

    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}

/// <summary>
/// One anvil chain and one node with tight policy thresholds, so S7–S10 each run in seconds, and a clock that starts ten
/// minutes before a UTC midnight (it is always ahead of the chain's time, so forwarded deadlines stay in the future).
/// </summary>
public sealed class GuardedNodeFixture : IAsyncLifetime
{
    public const long ChainId = 31337;

    /// <summary>The policy of this node: small budgets and fast rules (the defaults are in hocon/policy.hocon).</summary>
    public const string PolicyHocon =
        "gpm.policy.unauthenticated { per-second = 1, burst = 5 }\n" +
        "gpm.policy.throttle.cooldown = 6s\n" +
        "gpm.policy.denylist.wallet-quotes-per-minute = 10\n" +
        "gpm.policy.fraud.unexecuted-quotes { min-quotes = 60, max-ratio = 5 }";

    private readonly HttpClient _chainHttp = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "gpm-guarded-" + Guid.NewGuid().ToString("N"));

    public ShiftedClock Clock { get; } = new(UntilTenMinutesBeforeMidnight(DateTimeOffset.UtcNow));
    public DevnetLauncher Chains { get; private set; } = null!;
    public TestNode Node { get; private set; } = null!;
    public PaymasterClient Client => Node.Client;
    public EthRpcClient Rpc => new(_chainHttp, Chains.Chains[0].RpcUrl);
    public string Recorder => TestContracts.For(ChainId).SenderRecorder.ToChecksumString();

    public async Task InitializeAsync()
    {
        Chains = await DevnetLauncher.StartAsync([new DevnetChainSpec("devnet-a", ChainId, DevnetChainSpec.FreeLoopbackPort())], _chainHttp);
        var wallets = new DevWallets("grand-paymaster-devnet");
        await DevnetFunder.FundAsync(Rpc, ChainId, AnvilDevAccounts.Key(0),
            [(wallets.PoolWorker(ChainId, 0).Address, 10 * DevnetFunder.Ether), (wallets.PoolWorker(ChainId, 1).Address, 10 * DevnetFunder.Ether)]);
        await TestContracts.DeployAsync(Rpc, ChainId);
        Node = await TestNode.StartAsync(_dataDirectory, TestNode.ChainsOf(Chains), Clock, "--Gpm:Quotes:Validity=00:01:00",
            $"--Gpm:Policy:Hocon={PolicyHocon}");
        await Node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        if (Node is not null) await Node.DisposeAsync();
        if (Chains is not null) await Chains.DisposeAsync();
        _chainHttp.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }

    /// <summary>A registered dApp with 1,000 USDT and the direct-call target <paramref name="directTarget"/>, if any.</summary>
    public async Task<(string DappId, string ApiKey)> FundedDappAsync(string name, string? directTarget = null)
    {
        var (dappId, apiKey) = await Client.RegisterDappAsync(name, directCalls: directTarget is null ? null : [(ChainId, directTarget)]);
        await Client.DepositAsync(dappId, "USDT", "1000000000");
        return (dappId, apiKey);
    }

    private static TimeSpan UntilTenMinutesBeforeMidnight(DateTimeOffset now)
    {
        var midnight = new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
        var target = midnight - TimeSpan.FromMinutes(10);
        return target > now ? target - now : target.AddDays(1) - now;
    }
}

[CollectionDefinition(Name)]
public sealed class GuardedNodeCollection : ICollectionFixture<GuardedNodeFixture>
{
    public const string Name = "node with tight policy thresholds";
}
