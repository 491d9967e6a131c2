using System.Diagnostics;
using System.Globalization;
using GrandPaymaster.Chain.Rpc;

namespace GrandPaymaster.Chain.Devnet;

/// <summary>A running anvil process, the chain it serves and the last lines it wrote (a panic, say).</summary>
public sealed record DevnetChain(DevnetChainSpec Spec, Process Process, RecentLines Output)
{
    public Uri RpcUrl => Spec.RpcUrl;
}

/// <summary>
/// Starts local anvil chains on loopback, waits until each answers <c>eth_chainId</c> with its own
/// id, and kills them when disposed. The node host and the tests share this one launcher.
/// </summary>
public sealed class DevnetLauncher : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private const int OutputLinesKept = 100;
    private readonly List<DevnetChain> _chains = [];

    private DevnetLauncher()
    {
    }

    public IReadOnlyList<DevnetChain> Chains => _chains;

    public static async Task<DevnetLauncher> StartAsync(IEnumerable<DevnetChainSpec> specs, HttpClient http, CancellationToken ct = default)
    {
        var launcher = new DevnetLauncher();
        try
        {
            var anvil = AnvilBinary.Locate();
            foreach (var spec in specs)
            {
                var output = new RecentLines(OutputLinesKept);
                launcher._chains.Add(new DevnetChain(spec, StartProcess(anvil, spec, output), output));
            }
            await Task.WhenAll(launcher._chains.Select(chain => WaitUntilAnsweringAsync(chain, http, ct)));
            return launcher;
        }
        catch
        {
            await launcher.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var chain in _chains)
        {
            try
            {
                if (!chain.Process.HasExited) chain.Process.Kill(entireProcessTree: true);
                await chain.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (InvalidOperationException)
            {
                // Already gone: nothing left to stop.
            }
            finally
            {
                chain.Process.Dispose();
            }
        }

        _chains.Clear();
    }

    private static Process StartProcess(string anvil, DevnetChainSpec spec, RecentLines output)
    {
        var info = new ProcessStartInfo(anvil)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "--host", "127.0.0.1",
                     "--port", spec.Port.ToString(CultureInfo.InvariantCulture),
                     "--chain-id", spec.ChainId.ToString(CultureInfo.InvariantCulture),
                     "--silent",
                 })
            info.ArgumentList.Add(arg);
        if (spec.BlockTime is { } blockTime)
            foreach (var arg in new[] { "--block-time", blockTime.TotalSeconds.ToString(CultureInfo.InvariantCulture) })
                info.ArgumentList.Add(arg);
        else if (spec.BackstopBlockSeconds is { } seconds)
            foreach (var arg in new[] { "--mixed-mining", "--block-time", seconds.ToString(CultureInfo.InvariantCulture) })
                info.ArgumentList.Add(arg);

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {anvil}.");
        // Drain the pipes so a chatty anvil never blocks on a full pipe buffer; keep its last lines for diagnosis.
        process.OutputDataReceived += (_, line) => output.Add(line.Data);
        process.ErrorDataReceived += (_, line) => output.Add(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitUntilAnsweringAsync(DevnetChain chain, HttpClient http, CancellationToken ct)
    {
        var rpc = new EthRpcClient(http, chain.RpcUrl, TimeSpan.FromSeconds(1));
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (chain.Process.HasExited)
                throw new InvalidOperationException(
                    $"anvil for {chain.Spec.Name} exited with code {chain.Process.ExitCode} (is port {chain.Spec.Port} already in use?).");
            try
            {
                var id = await rpc.ChainIdAsync(ct);
                if (id != chain.Spec.ChainId)
                    throw new InvalidOperationException(
                        $"Port {chain.Spec.Port} answers chain id {id}, not {chain.Spec.ChainId}: another chain is already listening there.");
                return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, ct);
            }
        }
    }
}
