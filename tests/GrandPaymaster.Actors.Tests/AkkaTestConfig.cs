using Akka.Configuration;
using GrandPaymaster.Actors.Persistence;

namespace GrandPaymaster.Actors.Tests;

/// <summary>
/// Test actor systems on the project's own HOCON and a real SQLite journal in a temporary folder.
/// serialize-messages stays off here because the SQL plugin's internal messages are not
/// serializable; the serializer tests run our protocol through that check instead.
/// </summary>
public sealed class TempJournal : IDisposable
{
    public TempJournal() => Directory.CreateDirectory(DataDirectory);

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "gpm-test-" + Guid.NewGuid().ToString("N"));

    public Config Config => ConfigurationFactory.ParseString("""
            akka.actor.provider = local
            akka.loglevel = WARNING
            """)
        .WithFallback(PersistenceHocon.For(PersistenceSettings.Sqlite(DataDirectory)))
        .WithFallback(PersistenceHocon.Load("akka.hocon"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A journal connection still closing; the OS temp cleaner gets it.
        }
    }
}
