using System.Security.Cryptography;
using System.Text;
using GrandPaymaster.Actors.Audit;

namespace GrandPaymaster.Actors.Tests.Audit;

/// <summary>The signed checkpoint file across a crash part-way through a write, and a bad line that is not the last.</summary>
public sealed class CheckpointFileTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "gpm-checkpoints-" + Guid.NewGuid().ToString("N"));
    private readonly AuditKey _key;

    public CheckpointFileTests() => _key = AuditKey.LoadOrCreate(_directory, null);

    private string PathOf => Path.Combine(_directory, CheckpointFile.FileName);

    private static CheckpointEntry Head(string pid, long seq) => new(pid, seq, SHA256.HashData(Encoding.UTF8.GetBytes(pid + seq)));

    private CheckpointFile WriteTwo()
    {
        var file = new CheckpointFile(PathOf);
        file.Append([Head("dapp-a", 1)], DateTimeOffset.UnixEpoch, "node", _key);
        file.Append([Head("dapp-a", 2)], DateTimeOffset.UnixEpoch, "node", _key);
        return file;
    }

    private (List<CheckpointRecord> Records, CheckpointProblem? Problem) Read()
    {
        CheckpointProblem? problem = null;
        using var publicKey = _key.PublicKey();
        var records = CheckpointFile.Read(PathOf, publicKey, p => problem = p).ToList();
        return (records, problem);
    }

    [Fact]
    public void A_torn_last_line_is_cut_off_with_a_warning_and_kept_aside_and_checkpoints_continue_from_the_record_before_it()
    {
        WriteTwo();
        var intact = File.ReadAllBytes(PathOf);
        var third = Encoding.UTF8.GetBytes("{\"v\":1,\"n\":3,\"node\":\"node\",\"at\":\"1970-01-01T00:00:00.0000000Z\",\"prev\":\"ab");
        File.WriteAllBytes(PathOf, [.. intact, .. third]);
        var warnings = new List<string>();

        var reopened = new CheckpointFile(PathOf, warnings.Add);
        reopened.Append([Head("dapp-a", 3)], DateTimeOffset.UnixEpoch, "node", _key);
        var (records, problem) = Read();

        Assert.Null(problem);
        Assert.Equal([1L, 2L, 3L], records.Select(r => r.Number));
        Assert.Equal(3L, records[2].Entries.Single().SequenceNr);
        Assert.Contains("torn", Assert.Single(warnings));
        Assert.Contains("\"prev\":\"ab", File.ReadAllText(PathOf + ".torn"));
    }

    [Fact]
    public void A_complete_last_record_without_its_line_end_gets_it_and_is_kept()
    {
        WriteTwo();
        File.WriteAllBytes(PathOf, File.ReadAllBytes(PathOf)[..^1]);
        var warnings = new List<string>();

        new CheckpointFile(PathOf, warnings.Add).Append([Head("dapp-a", 3)], DateTimeOffset.UnixEpoch, "node", _key);
        var (records, problem) = Read();

        Assert.Null(problem);
        Assert.Equal([1L, 2L, 3L], records.Select(r => r.Number));
        Assert.Single(warnings);
    }

    [Fact]
    public void A_bad_line_before_the_last_is_left_alone_for_the_verifier_to_report()
    {
        var file = WriteTwo();
        file.Append([Head("dapp-a", 3)], DateTimeOffset.UnixEpoch, "node", _key);
        var lines = File.ReadAllLines(PathOf);
        File.WriteAllLines(PathOf, [lines[0], lines[1][..20], lines[2]]);
        var before = File.ReadAllBytes(PathOf);
        var warnings = new List<string>();

        _ = new CheckpointFile(PathOf, warnings.Add);
        var (records, problem) = Read();

        Assert.Empty(warnings);
        Assert.Equal(before, File.ReadAllBytes(PathOf));
        Assert.Single(records);
        Assert.Equal(2L, problem!.Line);
    }

    public void Dispose()
    {
        _key.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
