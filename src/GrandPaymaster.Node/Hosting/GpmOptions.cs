using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Actors.Persistence;
using GrandPaymaster.Chain.Devnet;

namespace GrandPaymaster.Node.Hosting;

/// <summary>The node's configuration, bound from the <c>Gpm</c> section (appsettings, environment <c>Gpm__…</c>, command line).</summary>
public sealed class GpmOptions
{
    public const string Section = "Gpm";

    public NodeOptions Node { get; set; } = new();
    public PersistenceOptions Persistence { get; set; } = new();
    /// <summary>Empty means the two local devnet chains (devnet-a 31337 on :8545, devnet-b 31338 on :8546).</summary>
    public List<ChainOptions> Chains { get; set; } = [];

    public IReadOnlyList<ChainOptions> EffectiveChains => Chains.Count > 0
        ? Chains
        : DevnetChainSpec.Defaults.Select(spec => new ChainOptions { Name = spec.Name, ChainId = spec.ChainId, RpcUrls = [spec.RpcUrl.ToString()] }).ToArray();
    public DevnetOptions Devnet { get; set; } = new();
    public WalletOptions Wallets { get; set; } = new();
    public QuoteOptions Quotes { get; set; } = new();
    public PoolOptions Pools { get; set; } = new();
}

/// <summary>Timings of the chain pools' relay loop.</summary>
public sealed class PoolOptions
{
    /// <summary>A transaction the block scan has not found this long is looked up on its own and broadcast again (and found dropped if its nonce went elsewhere).</summary>
    public TimeSpan RebroadcastAfter { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A pending transaction whose latest attempt is this old is sped up (fees +12.5 % within the hold), at the cap cancelled.</summary>
    public TimeSpan StuckAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A refused nonce below an in-flight one that no relay reuses within this time is filled with a 0-value self-send.</summary>
    public TimeSpan GapFillAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>After an automatic pause, endpoints must answer this long before the pool serves again.</summary>
    public TimeSpan ResumeAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A worker's transactions not yet final, at most; relays beyond wait in the pool's queue until one is final.</summary>
    public int MaxInFlightPerWorker { get; set; } = 64;
}

/// <summary>How long a quote can be executed after it is issued.</summary>
public sealed class QuoteOptions
{
    public TimeSpan Validity { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>Remoting and cluster membership of this node.</summary>
public sealed class NodeOptions
{
    public string ActorSystemName { get; set; } = "grand-paymaster";
    public string Hostname { get; set; } = "127.0.0.1";

    /// <summary>Remoting port; 0 picks a free one (tests).</summary>
    public int Port { get; set; } = 4053;

    /// <summary><c>edge</c> (HTTP), <c>core</c> (shards, singletons), <c>vault</c>; empty means all three (a single node).</summary>
    public List<string> Roles { get; set; } = [];

    public IReadOnlyList<string> EffectiveRoles => Roles.Count == 0 ? ["edge", "core", "vault"] : Roles;

    /// <summary>Empty: the node forms a cluster of its own (joins itself).</summary>
    public List<string> SeedNodes { get; set; } = [];
}

/// <summary>Which journal and where.</summary>
public sealed class PersistenceOptions
{
    public JournalProvider Provider { get; set; } = JournalProvider.Sqlite;
    public string DataDirectory { get; set; } = "data";
    public string? ConnectionString { get; set; }

    public PersistenceSettings ToSettings() => new(Provider, DataDirectory, ConnectionString);
}

/// <summary>An EVM chain the paymaster serves.</summary>
public sealed class ChainOptions
{
    public string Name { get; set; } = "";
    public long ChainId { get; set; }
    public List<string> RpcUrls { get; set; } = [];

    /// <summary>
    /// The vault's own RPC endpoints on this chain (its provider, apart from the pools'); empty: the pools' <see cref="RpcUrls"/>.
    /// </summary>
    public List<string> VaultRpcUrls { get; set; } = [];

    /// <summary>Every endpoint of the chain, the pools' and the vault's: all must be on this machine for the devnet's public secrets.</summary>
    public IEnumerable<string> AllRpcUrls => RpcUrls.Concat(VaultRpcUrls);

    public const int DefaultMaxDataBytes = 16 * 1024;

    /// <summary>Call data a quote may carry on this chain (bytes); beyond it the quote is refused <c>invalid_request</c>.</summary>
    public int MaxDataBytes { get; set; } = DefaultMaxDataBytes;

    /// <summary>Blocks on top of a receipt's block before it is settled: 0 on a devnet; set it per chain for real networks.</summary>
    public int ConfirmationDepth { get; set; }

    /// <summary>
    /// The ERC-2771 forwarder on this chain (its code is checked by readiness). Unset on a devnet: the one the devnet
    /// deploys is used.
    /// </summary>
    public string? Forwarder { get; set; }

    /// <summary>
    /// The chain's independent gas sources (kind: <c>gas-price</c>, <c>fee-history</c> or <c>priority-fee</c>; endpoint: an
    /// index into <see cref="RpcUrls"/>). Unset: one of each kind, on endpoints 0, 1 and 2 (wrapping around the URLs).
    /// </summary>
    public List<GasSourceOptions> GasSources { get; set; } = [];

    /// <summary>The chain's rate sources; unset: one <c>configured</c> source.</summary>
    public List<RateSourceOptions> RateSources { get; set; } = [];

    public IReadOnlyList<GasSourceOptions> EffectiveGasSources => GasSources.Count > 0
        ? GasSources
        : GasSourceKinds.All.Select((kind, i) => new GasSourceOptions { Kind = kind, Endpoint = RpcUrls.Count == 0 ? 0 : i % RpcUrls.Count }).ToArray();
}

/// <summary>
/// A conversion-rate source: <c>configured</c> (this chain's <c>Gpm:Market:Rates</c>, with a <see cref="Seed"/> a
/// repeatable random walk around them) or <c>http</c> (GET <see cref="Url"/>: <c>{"USDT":"3000000000",…}</c>).
/// </summary>
public sealed class RateSourceOptions
{
    public string Kind { get; set; } = "configured";
    public string? Url { get; set; }
    public int? Seed { get; set; }
}

/// <summary>A gas source: an RPC kind on endpoint <see cref="Endpoint"/>, or <c>http</c>: GET <see cref="Url"/>, the price in <see cref="Field"/>.</summary>
public sealed class GasSourceOptions
{
    public string Kind { get; set; } = GasSourceKinds.GasPrice;
    public int Endpoint { get; set; }
    public string? Url { get; set; }
    public string Field { get; set; } = "weiPerGas";
}

/// <summary>Local anvil chains started with the node (<c>scripts/build.sh run</c>).</summary>
public sealed class DevnetOptions
{
    public bool Enabled { get; set; }

    /// <summary>Besides mining each transaction at once, mine a block this often (see <see cref="DevnetChainSpec.BackstopBlockSeconds"/>); 0: never.</summary>
    public int BackstopBlockSeconds { get; set; } = 1;
}

/// <summary>
/// The project's own hot wallets. On the devnet their keys are derived from <see cref="DevSeed"/>;
/// a production deployment replaces this with a key store (the vault issue).
/// </summary>
public sealed class WalletOptions
{
    public string DevSeed { get; set; } = "grand-paymaster-devnet";
    public int WorkersPerChain { get; set; } = 2;
}
