namespace GrandPaymaster.Domain.Common;

/// <summary>
/// Who, when and why for every persisted event: the journal is the audit log.
/// <see cref="Actor"/> is <c>operator:&lt;id&gt;</c>, <c>dapp:&lt;id&gt;</c> or <c>system:&lt;component&gt;</c>.
/// </summary>
public sealed record Meta(DateTimeOffset At, string Actor, string Reason, string CorrelationId)
{
    /// <summary>Meta for a change the system makes on its own.</summary>
    public static Meta System(string component, string reason, DateTimeOffset at, string? correlationId = null) =>
        new(at, $"system:{component}", reason, correlationId ?? Guid.NewGuid().ToString("N"));
}
