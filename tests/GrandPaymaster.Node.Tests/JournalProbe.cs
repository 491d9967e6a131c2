using GrandPaymaster.Actors.Persistence;
using Microsoft.Data.Sqlite;

namespace GrandPaymaster.Node.Tests;

/// <summary>Reads a node's SQLite journal directly, as an auditor would.</summary>
public sealed class JournalProbe(string dataDirectory)
{
    public long Rows() => Scalar("SELECT COUNT(*) FROM journal");

    public long Rows(string persistenceId, string manifest) =>
        Scalar("SELECT COUNT(*) FROM journal WHERE persistence_id = $id AND manifest = $manifest", ("$id", persistenceId), ("$manifest", manifest));

    /// <summary>Rows whose event JSON mentions <paramref name="text"/> (a quote id, say).</summary>
    public long RowsMentioning(string manifest, string text) =>
        Scalar("SELECT COUNT(*) FROM journal WHERE manifest = $manifest AND instr(CAST(message AS TEXT), $text) > 0", ("$manifest", manifest), ("$text", text));

    /// <summary>Rows of one manifest whose bytes mention both texts (who and why of one event, say).</summary>
    public long RowsMentioning(string manifest, string text, string alsoText) =>
        Scalar("SELECT COUNT(*) FROM journal WHERE manifest = $manifest AND instr(CAST(message AS TEXT), $text) > 0 AND instr(CAST(message AS TEXT), $also) > 0",
            ("$manifest", manifest), ("$text", text), ("$also", alsoText));

    /// <summary>Rows of any kind, events and snapshots alike, whose bytes mention <paramref name="text"/>.</summary>
    public long RowsMentioningAnywhere(string text) =>
        Scalar("SELECT COUNT(*) FROM journal WHERE instr(CAST(message AS TEXT), $text) > 0", ("$text", text));

    public string? JournalMode() => ScalarText("PRAGMA journal_mode;");

    private long Scalar(string sql, params (string Name, object Value)[] parameters) => (long)Execute(sql, parameters)!;

    private string? ScalarText(string sql) => Execute(sql, []) as string;

    private object? Execute(string sql, (string Name, object Value)[] parameters)
    {
        using var connection = new SqliteConnection(PersistenceHocon.SqliteConnectionString(dataDirectory, PersistenceHocon.JournalFile));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return command.ExecuteScalar();
    }
}
