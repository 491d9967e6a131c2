using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Actors.Pools;

/// <summary>
/// At-least-once delivery of settlements to dApps: each is sent again with capped exponential backoff until its
/// acknowledgement arrives; acknowledgements are collected and journaled in one write per tick.
/// </summary>
internal sealed class SettlementOutbox(PoolSettings settings)
{
    private readonly Dictionary<QuoteId, (DateTimeOffset Due, TimeSpan Backoff)> _unacknowledged = new();
    private readonly HashSet<QuoteId> _acknowledged = new();

    public void Sent(QuoteId quoteId, DateTimeOffset now) =>
        _unacknowledged[quoteId] = (now + settings.FirstSettleRedelivery, settings.FirstSettleRedelivery * 2);

    /// <summary>Settlements due again now; each is rescheduled with a longer wait.</summary>
    public IReadOnlyList<QuoteId> Due(DateTimeOffset now)
    {
        var due = _unacknowledged.Where(kv => kv.Value.Due <= now).Select(kv => kv.Key).ToArray();
        foreach (var quoteId in due)
        {
            var backoff = _unacknowledged[quoteId].Backoff;
            _unacknowledged[quoteId] = (now + backoff, backoff * 2 < settings.MaxSettleRedelivery ? backoff * 2 : settings.MaxSettleRedelivery);
        }

        return due;
    }

    /// <summary>Also for a settlement this incarnation did not send (one delivered before a restart): the pool's state filters.</summary>
    public void Acknowledged(QuoteId quoteId)
    {
        _unacknowledged.Remove(quoteId);
        _acknowledged.Add(quoteId);
    }

    /// <summary>The acknowledgements since the last call, to journal together.</summary>
    public IReadOnlyCollection<QuoteId> TakeAcknowledged()
    {
        var taken = _acknowledged.ToArray();
        _acknowledged.Clear();
        return taken;
    }
}
