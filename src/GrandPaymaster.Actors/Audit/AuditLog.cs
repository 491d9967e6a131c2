using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using GrandPaymaster.Actors.Persistence;

namespace GrandPaymaster.Actors.Audit;

/// <summary>
/// The audit log's per-node part (an Akka extension): the chain heads written since the last checkpoint
/// (<see cref="CheckpointCollector"/>), journal write latency (<see cref="JournalWriteLatency"/>), chain faults found by recovering
/// entities, and, when <c>gpm.audit.directory</c> is set, the audit key and the signed checkpoint file written every
/// <c>gpm.audit.checkpoint-interval</c> and at shutdown.
/// </summary>
public sealed class AuditLog : IExtension, IDisposable
{
    private readonly ExtendedActorSystem _system;
    private readonly ConcurrentQueue<ChainFault> _faults = new();
    private readonly int _maxFaults;
    private readonly Lock _writing = new();
    private readonly Timer? _timer;
    private readonly CheckpointFile? _file;

    public AuditLog(ExtendedActorSystem system)
    {
        _system = system;
        var config = system.Settings.Config.WithFallback(PersistenceHocon.Load("audit.hocon")).GetConfig("gpm.audit");
        Interval = config.GetTimeSpan("checkpoint-interval");
        _maxFaults = config.GetInt("max-recent-faults");
        var directory = config.GetString("directory", "");
        if (string.IsNullOrWhiteSpace(directory)) return;

        Directory = Path.GetFullPath(directory);
        Key = AuditKey.LoadOrCreate(Directory, config.GetString("key-file", ""));
        if (Key.Generated)
            system.Log.Warning("Audit checkpoints are signed with a key this node generated at {0}. That is for a devnet only: production must " +
                               "supply its own key (Gpm:Audit:KeyFile, an ECDSA P-256 PEM kept away from the database)", Key.Path);
        _file = new CheckpointFile(Path.Combine(Directory, CheckpointFile.FileName), warning => system.Log.Warning("{0}", warning));
        _timer = new Timer(_ => Checkpoint(), null, Interval, Interval);
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "audit-checkpoint", () =>
        {
            Checkpoint();
            return Task.FromResult(Akka.Done.Instance);
        });
        system.WhenTerminated.ContinueWith(_ => Dispose(), TaskScheduler.Default);
    }

    public static AuditLog Get(ActorSystem system) => system.WithExtension<AuditLog, AuditLogProvider>();

    public TimeSpan Interval { get; }

    /// <summary>The folder of the checkpoint file and public key (null: nothing is written).</summary>
    public string? Directory { get; }

    /// <summary>The checkpoint file (null when <see cref="Directory"/> is not set).</summary>
    public string? CheckpointPath => _file?.Path;

    public AuditKey? Key { get; }

    public CheckpointCollector Heads { get; } = new();

    public JournalWriteLatency WriteLatency { get; } = new();

    /// <summary>One verification at a time per node: it walks the whole journal.</summary>
    public SemaphoreSlim Verifying { get; } = new(1, 1);

    /// <summary>Chain faults recovering entities found on this node (the most recent, bounded).</summary>
    public IReadOnlyCollection<ChainFault> RecentFaults => _faults.ToArray();

    internal void ReportFault(ChainFault fault)
    {
        _faults.Enqueue(fault);
        while (_faults.Count > _maxFaults && _faults.TryDequeue(out _))
        {
        }
    }

    /// <summary>Signs the chain heads that changed since the last checkpoint into the file (nothing when none changed).</summary>
    public void Checkpoint()
    {
        if (_file is null || Key is null) return;
        lock (_writing)
        {
            var heads = Heads.Drain();
            if (heads.Count == 0) return;
            try
            {
                _file.Append(heads, DateTimeOffset.UtcNow, _system.Provider.DefaultAddress.ToString(), Key);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not lost: the heads go back and the next checkpoint tries again.
                foreach (var h in heads) Heads.Report(h.PersistenceId, h.SequenceNr, h.Hash);
                _system.Log.Error(e, "Could not write the audit checkpoint to {0}", _file.Path);
            }
        }
    }

    public void Dispose()
    {
        _timer?.Dispose();
        Key?.Dispose();
    }
}

public sealed class AuditLogProvider : ExtensionIdProvider<AuditLog>
{
    public override AuditLog CreateExtension(ExtendedActorSystem system) => new(system);
}
