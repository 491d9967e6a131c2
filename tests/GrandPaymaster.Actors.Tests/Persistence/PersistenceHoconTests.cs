using GrandPaymaster.Actors.Persistence;
using Microsoft.Data.Sqlite;

namespace GrandPaymaster.Actors.Tests.Persistence;

public sealed class PersistenceHoconTests : IDisposable
{
    private readonly TempJournal _journal = new();

    [Theory]
    [InlineData(PersistenceHocon.JournalFile)]
    [InlineData(PersistenceHocon.SnapshotFile)]
    [InlineData(PersistenceHocon.ShardingFile)]
    public void Every_sqlite_file_is_in_write_ahead_log_mode(string file)
    {
        _ = PersistenceHocon.For(PersistenceSettings.Sqlite(_journal.DataDirectory));

        using var connection = new SqliteConnection(PersistenceHocon.SqliteConnectionString(_journal.DataDirectory, file));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", command.ExecuteScalar() as string);
    }

    [Fact]
    public void Journal_snapshots_and_sharding_state_live_in_separate_files()
    {
        var config = PersistenceHocon.For(PersistenceSettings.Sqlite(_journal.DataDirectory));
        var journal = config.GetString("akka.persistence.journal.sql.connection-string");
        var snapshots = config.GetString("akka.persistence.snapshot-store.sql.connection-string");
        var sharding = config.GetString("akka.persistence.journal.sharding.connection-string");

        Assert.Contains(PersistenceHocon.JournalFile, journal);
        Assert.Contains(PersistenceHocon.SnapshotFile, snapshots);
        Assert.Contains(PersistenceHocon.ShardingFile, sharding);
        Assert.Equal("SQLite.MS", config.GetString("akka.persistence.journal.sql.provider-name"));
    }

    [Fact]
    public void Postgres_needs_a_connection_string()
    {
        var error = Assert.Throws<InvalidOperationException>(() => PersistenceHocon.For(new PersistenceSettings(JournalProvider.Postgres, "unused")));
        Assert.Contains("ConnectionString", error.Message);
    }

    public void Dispose() => _journal.Dispose();
}
