using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace GrandPaymaster.Actors.Audit;

/// <summary>One verified line of the checkpoint file.</summary>
public sealed record CheckpointRecord(long Number, string Node, DateTimeOffset At, IReadOnlyList<CheckpointEntry> Entries);

/// <summary>The first problem of a checkpoint file: its line and what is wrong.</summary>
public sealed record CheckpointProblem(long Line, string Problem);

/// <summary>
/// The signed checkpoint file (<c>{DataDirectory}/audit/checkpoints.jsonl</c>), one JSON record per line:
/// <c>{"v":1,"n":…,"node":…,"at":…,"prev":…,"entries":[{"pid":…,"seq":…,"hash":…}],"sig":…}</c>. <c>n</c> counts the records,
/// <c>prev</c> is the SHA-256 of the previous line (so a removed line is seen), and <c>sig</c> is the audit key's ECDSA
/// P-256 / SHA-256 signature (IEEE P1363, base64) of the line's exact bytes without its <c>,"sig":"…"</c> member. A record
/// holds only the chain heads that changed since the previous one.
/// </summary>
public sealed class CheckpointFile
{
    public const string FileName = "checkpoints.jsonl";
    private const string SigMember = ",\"sig\":\"";

    private readonly string _path;
    private long _records;
    private byte[] _lastLineHash = new byte[32];

    /// <summary>
    /// Opens (or starts) the file at <paramref name="path"/>, continuing from its last record. A crash part-way through
    /// <see cref="Append"/> can leave a torn last line (a prefix of a record, or a record without its newline): it is repaired here
    /// (the torn bytes are cut off and kept in <c>checkpoints.jsonl.torn</c>, a complete record gets its newline) and
    /// <paramref name="warn"/> says so. Only the last line is repaired; a bad line before it stays for the verifier to report.
    /// </summary>
    public CheckpointFile(string path, Action<string>? warn = null)
    {
        _path = path;
        Repair(path, warn);
        if (LastLine(path) is { } last)
        {
            _lastLineHash = SHA256.HashData(last);
            _records = RecordNumber(last) ?? throw new InvalidDataException($"The last line of {path} is not a checkpoint record.");
        }
    }

    /// <summary>The record number of a complete checkpoint line; null when the line is not one (torn).</summary>
    private static long? RecordNumber(byte[] line)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("n", out var n) && n.TryGetInt64(out var number)
                ? number
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void Repair(string path, Action<string>? warn)
    {
        if (!File.Exists(path)) return;
        long cut;
        byte[] torn;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read))
        {
            var length = stream.Length;
            if (length == 0) return;
            stream.Position = length - 1;
            var endsWithNewline = stream.ReadByte() == '\n';
            // The last line: after the last newline before the final one (or from the start).
            var lineEnd = endsWithNewline ? length - 1 : length;
            var lineStart = LastNewlineBefore(stream, lineEnd) + 1;
            var line = new byte[lineEnd - lineStart];
            stream.Position = lineStart;
            stream.ReadExactly(line);
            var text = line.AsSpan().TrimEnd((byte)'\r');
            if (text.IsEmpty && endsWithNewline) return;
            var complete = RecordNumber(text.ToArray()) is not null;
            if (complete)
            {
                if (endsWithNewline) return;
                stream.Position = length;
                stream.WriteByte((byte)'\n');
                stream.Flush(flushToDisk: true);
                warn?.Invoke($"The last audit checkpoint record in {path} had no line end (a crash while it was written); the line end was added.");
                return;
            }

            cut = lineStart;
            torn = new byte[length - lineStart];
            stream.Position = lineStart;
            stream.ReadExactly(torn);
            stream.SetLength(cut);
            stream.Flush(flushToDisk: true);
        }

        File.AppendAllText(path + ".torn", $"{DateTimeOffset.UtcNow:O} cut at byte {cut}: " + Encoding.UTF8.GetString(torn).TrimEnd('\n') + "\n");
        warn?.Invoke($"The last line of the audit checkpoint file {path} was torn (a crash while it was written): its {torn.Length} bytes were cut off " +
                     $"and kept in {System.IO.Path.GetFileName(path)}.torn; checkpoints continue from the record before it.");
    }

    /// <summary>The position of the last newline before <paramref name="end"/> (-1: none).</summary>
    private static long LastNewlineBefore(Stream stream, long end)
    {
        var buffer = new byte[64 * 1024];
        var position = end;
        while (position > 0)
        {
            var n = (int)Math.Min(buffer.Length, position);
            stream.Position = position - n;
            stream.ReadExactly(buffer, 0, n);
            var newline = Array.LastIndexOf(buffer, (byte)'\n', n - 1, n);
            if (newline >= 0) return position - n + newline;
            position -= n;
        }

        return -1;
    }

    public string Path => _path;

    /// <summary>Appends one signed record of <paramref name="entries"/> and flushes it to disk.</summary>
    public void Append(IReadOnlyList<CheckpointEntry> entries, DateTimeOffset at, string node, AuditKey key)
    {
        var body = new MemoryStream();
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteNumber("v", 1);
            json.WriteNumber("n", _records + 1);
            json.WriteString("node", node);
            json.WriteString("at", at.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("prev", Convert.ToHexStringLower(_lastLineHash));
            json.WriteStartArray("entries");
            foreach (var e in entries)
            {
                json.WriteStartObject();
                json.WriteString("pid", e.PersistenceId);
                json.WriteNumber("seq", e.SequenceNr);
                json.WriteString("hash", ChainHash.Hex(e.Hash));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        var signed = body.ToArray();
        var signature = Convert.ToBase64String(key.Sign(signed));
        var line = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(signed, 0, signed.Length - 1) + SigMember + signature + "\"}");
        using (var stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read))
        {
            stream.Write(line);
            stream.WriteByte((byte)'\n');
            stream.Flush(flushToDisk: true);
        }

        _records++;
        _lastLineHash = SHA256.HashData(line);
    }

    /// <summary>
    /// Reads and verifies the file at <paramref name="path"/> line by line (streaming): signature, record number and link to the
    /// previous line. Stops at the first bad line, which <paramref name="problem"/> then names.
    /// </summary>
    public static IEnumerable<CheckpointRecord> Read(string path, ECDsa publicKey, Action<CheckpointProblem> problem)
    {
        if (!File.Exists(path)) yield break;
        var previous = new byte[32];
        long number = 0;
        using var reader = new StreamReader(path, Encoding.UTF8);
        while (reader.ReadLine() is { } text)
        {
            number++;
            var line = Encoding.UTF8.GetBytes(text);
            var record = Parse(line, number, previous, publicKey, out var error);
            if (record is null)
            {
                problem(new CheckpointProblem(number, error!));
                yield break;
            }

            previous = SHA256.HashData(line);
            yield return record;
        }
    }

    private static CheckpointRecord? Parse(byte[] line, long number, byte[] previous, ECDsa publicKey, out string? error)
    {
        error = null;
        var text = Encoding.UTF8.GetString(line);
        var at = text.LastIndexOf(SigMember, StringComparison.Ordinal);
        if (at < 0 || !text.EndsWith("\"}", StringComparison.Ordinal))
        {
            error = "checkpoint record has no signature";
            return null;
        }

        var body = Encoding.UTF8.GetBytes(text[..at] + "}");
        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(text[(at + SigMember.Length)..^2]);
        }
        catch (FormatException)
        {
            error = "checkpoint signature is not base64";
            return null;
        }

        if (!publicKey.VerifyData(body, signature, HashAlgorithmName.SHA256))
        {
            error = "checkpoint signature invalid: the record was altered or signed with another key";
            return null;
        }

        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            if (root.GetProperty("n").GetInt64() != number)
            {
                error = $"checkpoint record {root.GetProperty("n").GetInt64()} found as line {number}: records were removed or reordered";
                return null;
            }

            if (!string.Equals(root.GetProperty("prev").GetString(), Convert.ToHexStringLower(previous), StringComparison.Ordinal))
            {
                error = "checkpoint record does not link to the line before it: a record was removed or replaced";
                return null;
            }

            var entries = root.GetProperty("entries").EnumerateArray()
                .Select(e => new CheckpointEntry(e.GetProperty("pid").GetString()!, e.GetProperty("seq").GetInt64(), Convert.FromHexString(e.GetProperty("hash").GetString()!)))
                .ToArray();
            return new CheckpointRecord(number, root.GetProperty("node").GetString() ?? "",
                DateTimeOffset.Parse(root.GetProperty("at").GetString()!, System.Globalization.CultureInfo.InvariantCulture), entries);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            error = "checkpoint record is not well-formed: " + e.Message;
            return null;
        }
    }

    /// <summary>The file's last non-empty line, read backwards from its end (the file only grows).</summary>
    private static byte[]? LastLine(string path)
    {
        if (!File.Exists(path)) return null;
        using var stream = File.OpenRead(path);
        var end = stream.Length;
        while (end > 0)
        {
            stream.Position = end - 1;
            if (stream.ReadByte() is '\n' or '\r') end--;
            else break;
        }

        if (end == 0) return null;
        var start = end;
        var buffer = new byte[64 * 1024];
        while (start > 0)
        {
            var n = (int)Math.Min(buffer.Length, start);
            stream.Position = start - n;
            stream.ReadExactly(buffer, 0, n);
            var newline = Array.LastIndexOf(buffer, (byte)'\n', n - 1, n);
            if (newline >= 0)
            {
                start = start - n + newline + 1;
                break;
            }

            start -= n;
        }

        var line = new byte[end - start];
        stream.Position = start;
        stream.ReadExactly(line);
        return line;
    }
}
