using System.Net;
using System.Net.Sockets;

namespace GrandPaymaster.Chain.Devnet;

/// <summary>
/// One local anvil chain: its name, EIP-155 id and loopback port. Every transaction is mined at once (automine);
/// with <see cref="BackstopBlockSeconds"/> a block is also mined at that interval (anvil's mixed mining), which
/// mines transactions anvil's automine leaves ready but unmined when many arrive out of nonce order
/// (foundry-rs/foundry#10122, seen here at 100 tx/s under CPU contention). With <see cref="BlockTime"/> blocks are mined
/// only at that interval, each with every ready transaction, as on a chain with a block time (no automine).
/// </summary>
public sealed record DevnetChainSpec(string Name, long ChainId, int Port, int? BackstopBlockSeconds = null, TimeSpan? BlockTime = null)
{
    /// <summary>The two chains <c>scripts/build.sh run</c> starts.</summary>
    public static readonly IReadOnlyList<DevnetChainSpec> Defaults =
    [
        new("devnet-a", 31337, 8545),
        new("devnet-b", 31338, 8546),
    ];

    public Uri RpcUrl => new($"http://127.0.0.1:{Port}");

    /// <summary>The default chains on free loopback ports, for tests that run beside each other.</summary>
    public static IReadOnlyList<DevnetChainSpec> DefaultsOnFreePorts() =>
        Defaults.Select(spec => spec with { Port = FreeLoopbackPort() }).ToArray();

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
