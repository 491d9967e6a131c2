using System.Text.Json;

namespace GrandPaymaster.Contracts;

/// <summary>A compiled contract as <c>compile.js</c> wrote it: its ABI (JSON) and creation bytecode.</summary>
public sealed record ContractArtifact(string Name, string Compiler, string AbiJson, byte[] Bytecode)
{
    /// <summary>The paymaster's trusted forwarder (OpenZeppelin <c>ERC2771Forwarder</c>, EIP-712 name "GrandPaymasterForwarder").</summary>
    public static ContractArtifact Forwarder => Load("GrandPaymasterForwarder");

    /// <summary>The example recipient: counts calls per ERC-2771 sender; its constructor takes the trusted forwarder.</summary>
    public static ContractArtifact SenderRecorder => Load("SenderRecorder");

    /// <summary>The artifact file's bytes as embedded (what the drift test compares with a fresh compile).</summary>
    public static byte[] RawJson(string name)
    {
        using var stream = Open(name);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Every embedded artifact's name.</summary>
    public static IReadOnlyList<string> Names { get; } = typeof(ContractArtifact).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal))
        .Select(n => n[Prefix.Length..^".json".Length])
        .Order(StringComparer.Ordinal)
        .ToArray();

    public static ContractArtifact Load(string name)
    {
        using var document = JsonDocument.Parse(RawJson(name));
        var root = document.RootElement;
        var bytecode = root.GetProperty("bytecode").GetString()!;
        return new ContractArtifact(root.GetProperty("contractName").GetString()!, root.GetProperty("compiler").GetString()!,
            root.GetProperty("abi").GetRawText(), Convert.FromHexString(bytecode.StartsWith("0x", StringComparison.Ordinal) ? bytecode[2..] : bytecode));
    }

    private const string Prefix = "GrandPaymaster.Contracts.artifacts.";

    private static Stream Open(string name) =>
        typeof(ContractArtifact).Assembly.GetManifestResourceStream(Prefix + name + ".json")
        ?? throw new ArgumentException($"No compiled contract named {name}; known: {string.Join(", ", Names)}.", nameof(name));
}
