using Akka.Configuration;
using Akka.Persistence.Sql;
using Microsoft.Data.Sqlite;

namespace GrandPaymaster.Actors.Persistence;

/// <summary>Which journal backs the node.</summary>
public enum JournalProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Where the journal lives. SQLite files go under <see cref="DataDirectory"/>.</summary>
public sealed record PersistenceSettings(JournalProvider Provider, string DataDirectory, string? ConnectionString = null)
{
    public static PersistenceSettings Sqlite(string dataDirectory) => new(JournalProvider.Sqlite, dataDirectory);
}

/// <summary>
/// Builds the node's Akka configuration from the embedded <c>hocon/</c> files plus the connection
/// strings of the chosen journal.
/// </summary>
public static class PersistenceHocon
{
    public const string ShardingJournalPluginId = "akka.persistence.journal.sharding";
    public const string ShardingSnapshotPluginId = "akka.persistence.snapshot-store.sharding";

    public const string JournalFile = "journal.db";
    public const string SnapshotFile = "snapshots.db";
    public const string ShardingFile = "sharding.db";

    /// <summary>Reads one of the project's HOCON files (embedded from the repository's <c>hocon/</c> folder).</summary>
    public static Config Load(string fileName)
    {
        using var stream = typeof(PersistenceHocon).Assembly.GetManifestResourceStream($"hocon/{fileName}")
                           ?? throw new FileNotFoundException($"hocon/{fileName} is not embedded in {typeof(PersistenceHocon).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }

    /// <summary>
    /// The persistence part of the configuration for <paramref name="settings"/>, with the plugin's own
    /// defaults as fallback (Akka.Persistence.Sql.Hosting would add them; it is not available here).
    /// </summary>
    public static Config For(PersistenceSettings settings) => settings.Provider switch
    {
        JournalProvider.Sqlite => ForSqlite(settings.DataDirectory),
        JournalProvider.Postgres => ForPostgres(settings.ConnectionString
                                                ?? throw new InvalidOperationException("Gpm:Persistence:ConnectionString is required for PostgreSQL.")),
        _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Provider, "Unknown journal provider."),
    };

    /// <summary>SQLite connection string of one database file under <paramref name="dataDirectory"/>.</summary>
    public static string SqliteConnectionString(string dataDirectory, string file) =>
        new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(Path.Combine(dataDirectory, file)),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();

    private static Config ForSqlite(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var journal = SqliteConnectionString(dataDirectory, JournalFile);
        var snapshots = SqliteConnectionString(dataDirectory, SnapshotFile);
        var sharding = SqliteConnectionString(dataDirectory, ShardingFile);
        foreach (var connectionString in new[] { journal, snapshots, sharding }) EnableWriteAheadLog(connectionString);

        return ConfigurationFactory.ParseString($$"""
            akka.persistence.journal.sql.connection-string = {{Quote(journal)}}
            akka.persistence.query.journal.sql.connection-string = {{Quote(journal)}}
            akka.persistence.snapshot-store.sql.connection-string = {{Quote(snapshots)}}
            akka.persistence.journal.sharding.connection-string = {{Quote(sharding)}}
            akka.persistence.snapshot-store.sharding.connection-string = {{Quote(sharding)}}
            """).WithFallback(Load("persistence.sqlite.hocon")).WithFallback(SqlPersistence.DefaultConfiguration);
    }

    private static Config ForPostgres(string connectionString)
    {
        var quoted = Quote(connectionString);
        return ConfigurationFactory.ParseString($$"""
            akka.persistence.journal.sql.connection-string = {{quoted}}
            akka.persistence.query.journal.sql.connection-string = {{quoted}}
            akka.persistence.snapshot-store.sql.connection-string = {{quoted}}
            akka.persistence.journal.sharding.connection-string = {{quoted}}
            akka.persistence.snapshot-store.sharding.connection-string = {{quoted}}
            """).WithFallback(Load("persistence.postgres.hocon")).WithFallback(SqlPersistence.DefaultConfiguration);
    }

    /// <summary>
    /// WAL lets readers (queries, health checks, audit verification) run beside the writer. The mode
    /// is stored in the database file, so setting it once before the journal opens is enough.
    /// </summary>
    private static void EnableWriteAheadLog(string connectionString)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        var mode = command.ExecuteScalar() as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"SQLite refused WAL mode for {connection.DataSource} (got '{mode}').");
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>
    /// Shard options of a remembered entity type: placement in Distributed Data, remember-entities in sharding's own
    /// event-sourced journal (never our audit log, akka.net #3538 / #7499).
    /// </summary>
    public static Akka.Cluster.Hosting.ShardOptions RememberedEntities(string role) => new()
    {
        Role = role,
        StateStoreMode = Akka.Cluster.Sharding.StateStoreMode.DData,
        RememberEntities = true,
        RememberEntitiesStore = Akka.Cluster.Sharding.RememberEntitiesStore.Eventsourced,
        JournalPluginId = ShardingJournalPluginId,
        SnapshotPluginId = ShardingSnapshotPluginId,
    };
}
