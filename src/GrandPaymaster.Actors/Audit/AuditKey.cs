using System.Security.Cryptography;

namespace GrandPaymaster.Actors.Audit;

/// <summary>
/// The audit key that signs checkpoints: ECDSA P-256, kept outside the database (a PEM file). Production supplies its own
/// (<c>Gpm:Audit:KeyFile</c>, ideally on another volume than the journal); without one the node generates one on first start
/// beside the checkpoints (<c>audit/audit-key.pem</c>, mode 600) and says so in its log. The public key is written beside the
/// checkpoints (<c>audit/audit-key.pub.pem</c>) so anyone can check them.
/// </summary>
public sealed class AuditKey : IDisposable
{
    public const string GeneratedFile = "audit-key.pem";
    public const string PublicFile = "audit-key.pub.pem";

    private AuditKey(ECDsa key, string path, bool generated)
    {
        Key = key;
        Path = path;
        Generated = generated;
    }

    /// <summary>The private key (signs).</summary>
    public ECDsa Key { get; }

    public string Path { get; }

    /// <summary>Whether this node generated the key itself (no <c>Gpm:Audit:KeyFile</c>).</summary>
    public bool Generated { get; }

    /// <summary>The key of <paramref name="keyFile"/>, or the one generated under <paramref name="auditDirectory"/> (created if missing).</summary>
    public static AuditKey LoadOrCreate(string auditDirectory, string? keyFile)
    {
        Directory.CreateDirectory(auditDirectory);
        AuditKey key;
        if (!string.IsNullOrWhiteSpace(keyFile))
            key = new AuditKey(Load(keyFile), System.IO.Path.GetFullPath(keyFile), generated: false);
        else
        {
            var path = System.IO.Path.Combine(auditDirectory, GeneratedFile);
            if (!File.Exists(path))
            {
                using var fresh = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                using var stream = new FileStream(path, options);
                using var writer = new StreamWriter(stream);
                writer.Write(fresh.ExportPkcs8PrivateKeyPem());
            }

            key = new AuditKey(Load(path), System.IO.Path.GetFullPath(path), generated: true);
        }

        var publicPath = System.IO.Path.Combine(auditDirectory, PublicFile);
        var publicPem = key.Key.ExportSubjectPublicKeyInfoPem();
        if (!File.Exists(publicPath) || File.ReadAllText(publicPath) != publicPem) File.WriteAllText(publicPath, publicPem);
        return key;
    }

    /// <summary>A verifier's copy: the public half only.</summary>
    public ECDsa PublicKey()
    {
        var copy = ECDsa.Create();
        copy.ImportSubjectPublicKeyInfo(Key.ExportSubjectPublicKeyInfo(), out _);
        return copy;
    }

    // ECDsa instances are not documented as thread-safe; entities sign snapshots and the checkpoint timer signs lines concurrently.
    private readonly Lock _using = new();

    public byte[] Sign(ReadOnlySpan<byte> data)
    {
        lock (_using) return Key.SignData(data, HashAlgorithmName.SHA256);
    }

    /// <summary>Checks <paramref name="snapshot"/>'s signature with the public half of this key (what a verifier without the private key does).</summary>
    public bool VerifySnapshot(string persistenceId, ChainedSnapshot snapshot)
    {
        lock (_using) return SnapshotSignature.Verify(persistenceId, snapshot, _verifier ??= PublicKey());
    }

    private ECDsa? _verifier;

    public void Dispose()
    {
        _verifier?.Dispose();
        Key.Dispose();
    }

    private static ECDsa Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidOperationException($"The audit key file {path} (Gpm:Audit:KeyFile) does not exist.");
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new InvalidOperationException($"The audit key file {path} holds no ECDSA private key in PEM form.", e);
        }

        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new InvalidOperationException($"The audit key in {path} is ECDSA-{key.KeySize}; it must be P-256.");
        }

        return key;
    }
}
