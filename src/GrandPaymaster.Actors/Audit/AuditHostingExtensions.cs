using Akka.Hosting;

namespace GrandPaymaster.Actors.Audit;

/// <summary>Wires the audit log's checkpoints into an actor system.</summary>
public static class AuditHostingExtensions
{
    public const string Folder = "audit";

    /// <summary>
    /// Signs chain heads into <c>{dataDirectory}/audit/checkpoints.jsonl</c> with the key of <paramref name="keyFile"/> (unset: one
    /// generated on first start in that folder). The extension starts with the actor system, so a missing or broken key stops the
    /// node at once rather than at its first event.
    /// </summary>
    public static AkkaConfigurationBuilder AddAudit(this AkkaConfigurationBuilder builder, string dataDirectory, string? keyFile) =>
        builder
            .AddHocon($$"""
                gpm.audit.directory = {{Quote(Path.GetFullPath(Path.Combine(dataDirectory, Folder)))}}
                gpm.audit.key-file = {{Quote(string.IsNullOrWhiteSpace(keyFile) ? "" : Path.GetFullPath(keyFile))}}
                """, HoconAddMode.Prepend)
            .AddHocon(Persistence.PersistenceHocon.Load("audit.hocon"), HoconAddMode.Append)
            .AddStartup((system, _) => AuditLog.Get(system));

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
