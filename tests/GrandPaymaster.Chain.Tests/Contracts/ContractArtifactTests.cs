using System.Diagnostics;
using System.Numerics;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Tests.Devnet;
using GrandPaymaster.Chain.Transactions;
using GrandPaymaster.Contracts;
using static GrandPaymaster.Chain.Tests.Contracts.TestAbi;

namespace GrandPaymaster.Chain.Tests.Contracts;

/// <summary>
/// The committed contract artifacts: exactly what the pinned solc-js makes of the committed sources (so the C# build
/// never needs Node), and deployable on anvil with the behaviour the sources promise.
/// </summary>
[Collection(AnvilCollection.Name)]
public sealed class ContractArtifactTests(AnvilFixture anvil)
{
    private const long ChainId = 31338;

    [Fact]
    public async Task The_committed_artifacts_are_what_the_pinned_compiler_makes_of_the_committed_sources()
    {
        var root = RepositoryRoot();
        var tools = Environment.GetEnvironmentVariable("GPM_CONTRACT_TOOLS") is { Length: > 0 } set ? set : Path.Combine(root, ".tools", "contracts");
        Assert.True(Directory.Exists(Path.Combine(tools, "node_modules", "solc")),
            $"solc-js is not installed in {tools}: run the tests with scripts/build.sh test, which installs it from package-lock.json");
        var output = Directory.CreateTempSubdirectory("gpm-contracts-").FullName;
        try
        {
            var compile = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
            compile.ArgumentList.Add(Path.Combine(root, "src", "GrandPaymaster.Contracts", "compile.js"));
            compile.ArgumentList.Add(output);
            compile.Environment["GPM_CONTRACT_TOOLS"] = tools;
            using var process = Process.Start(compile)!;
            var errors = process.StandardError.ReadToEndAsync();
            await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, "compile.js failed: " + await errors);

            var compiled = Directory.GetFiles(output, "*.json").Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(compiled, ContractArtifact.Names);
            foreach (var name in compiled)
                Assert.True(File.ReadAllBytes(Path.Combine(output, name + ".json")).AsSpan().SequenceEqual(ContractArtifact.RawJson(name)),
                    $"artifacts/{name}.json differs from a fresh compile: run scripts/build.sh contracts and commit the result");
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public async Task The_forwarder_deploys_with_its_EIP712_domain_and_the_recipient_trusts_it()
    {
        var rpc = anvil.Rpc(anvil.ChainB);
        var deployer = EthKey.Generate(new Random(2771));
        await DevnetFunder.FundAsync(rpc, ChainId, AnvilDevAccounts.Key(2), [(deployer.Address, DevnetFunder.Ether)]);

        var forwarder = await DeployAsync(rpc, deployer, 0, ContractArtifact.Forwarder.Bytecode);
        var recipient = await DeployAsync(rpc, deployer, 1, [.. ContractArtifact.SenderRecorder.Bytecode, .. Word(forwarder)]);

        // eip712Domain() → (bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, …)
        var domain = await rpc.CallAsync(new CallRequest(forwarder.ToChecksumString(), Call("eip712Domain()", [])));
        Assert.Equal("GrandPaymasterForwarder", AbiString(domain, 1));
        Assert.Equal("1", AbiString(domain, 2));
        Assert.Equal(new BigInteger(ChainId), new BigInteger(domain.AsSpan(3 * 32, 32), isUnsigned: true, isBigEndian: true));
        Assert.Equal(Word(forwarder), domain.AsSpan(4 * 32, 32).ToArray());

        var trusted = await rpc.CallAsync(new CallRequest(recipient.ToChecksumString(), Call("trustedForwarder()", [])));
        Assert.Equal(Word(forwarder), trusted);
    }

    private static async Task<EthAddress> DeployAsync(EthRpcClient rpc, EthKey key, int nonce, byte[] code)
    {
        var create = new Eip1559Transaction(ChainId, nonce, 1_000_000_000, 100_000_000_000, 5_000_000, null, BigInteger.Zero, code).Sign(key);
        await rpc.SendRawTransactionAsync(create.Raw);
        var receipt = await DevnetFunder.WaitForReceiptAsync(rpc, create.TxHashHex);
        Assert.True(receipt.Succeeded, "deployment reverted");
        return EthAddress.Parse(receipt.ContractAddress!);
    }

    /// <summary>The dynamic string at head slot <paramref name="slot"/> of an ABI-encoded tuple.</summary>
    private static string AbiString(byte[] data, int slot)
    {
        var offset = (int)new BigInteger(data.AsSpan(slot * 32, 32), isUnsigned: true, isBigEndian: true);
        var length = (int)new BigInteger(data.AsSpan(offset, 32), isUnsigned: true, isBigEndian: true);
        return System.Text.Encoding.UTF8.GetString(data, offset + 32, length);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "GrandPaymaster.sln"))) return dir.FullName;
        throw new InvalidOperationException("GrandPaymaster.sln not found above " + AppContext.BaseDirectory);
    }
}
