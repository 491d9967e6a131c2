using System.Collections.Concurrent;
using System.Threading.Channels;
using GrandPaymaster.Actors.Alerts;
using GrandPaymaster.Domain.Alerts;
using static GrandPaymaster.Domain.Alerts.AlertProtocol;

namespace GrandPaymaster.Node.Alerts;

/// <summary>
/// This node's end of the alert changes the store tells every node: the SSE streams (at most <see cref="StreamSettings.MaxStreams"/>,
/// each with a buffer of <see cref="StreamSettings.Buffer"/> changes; a stream that falls that far behind is dropped, never waited
/// for) and the unresolved alerts by severity for <c>gpm_alerts_open</c> (at most the store's bound).
/// </summary>
public sealed class AlertStreamHub(StreamSettings settings, int maxUnresolved) : IAlertListener
{
    private readonly ConcurrentDictionary<long, Subscription> _streams = new();
    private readonly ConcurrentDictionary<string, Alert> _unresolved = new(StringComparer.Ordinal);
    private long _nextId;
    private int _count;

    public StreamSettings Settings => settings;

    /// <summary>A new stream, or null when <see cref="StreamSettings.MaxStreams"/> are open.</summary>
    public Subscription? TrySubscribe()
    {
        if (Interlocked.Increment(ref _count) > settings.MaxStreams)
        {
            Interlocked.Decrement(ref _count);
            return null;
        }

        var subscription = new Subscription(this, Interlocked.Increment(ref _nextId), settings.Buffer);
        _streams[subscription.Id] = subscription;
        return subscription;
    }

    public void Changed(AlertChanged change)
    {
        if (change.Alert.IsUnresolved)
        {
            if (_unresolved.Count <= maxUnresolved || _unresolved.ContainsKey(change.Alert.Id)) _unresolved[change.Alert.Id] = change.Alert;
        }
        else
        {
            _unresolved.TryRemove(change.Alert.Id, out _);
        }

        foreach (var stream in _streams.Values)
            if (!stream.Writer.TryWrite(change))
                stream.Drop();
    }

    public void Seed(IReadOnlyList<Alert> unresolved)
    {
        foreach (var alert in unresolved.Take(maxUnresolved + 1)) _unresolved.TryAdd(alert.Id, alert);
    }

    /// <summary>Unresolved alerts (open or acknowledged) by severity, as this node was told.</summary>
    public IReadOnlyDictionary<AlertSeverity, int> UnresolvedBySeverity()
    {
        var counts = Enum.GetValues<AlertSeverity>().ToDictionary(s => s, _ => 0);
        foreach (var alert in _unresolved.Values) counts[alert.Severity]++;
        return counts;
    }

    public int Streams => Volatile.Read(ref _count);

    private void Remove(Subscription subscription)
    {
        if (_streams.TryRemove(subscription.Id, out _)) Interlocked.Decrement(ref _count);
    }

    /// <summary>One SSE client's buffer; dispose it when the client goes.</summary>
    public sealed class Subscription : IDisposable
    {
        private readonly AlertStreamHub _hub;
        private readonly Channel<AlertChanged> _channel;

        internal Subscription(AlertStreamHub hub, long id, int buffer)
        {
            _hub = hub;
            Id = id;
            _channel = Channel.CreateBounded<AlertChanged>(new BoundedChannelOptions(buffer)
            {
                FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of waiting: the hub drops the stream
                SingleReader = true,
            });
        }

        public long Id { get; }
        public ChannelReader<AlertChanged> Reader => _channel.Reader;
        internal ChannelWriter<AlertChanged> Writer => _channel.Writer;

        /// <summary>The client fell behind by a whole buffer and was dropped.</summary>
        public bool Dropped { get; private set; }

        internal void Drop()
        {
            Dropped = true;
            _channel.Writer.TryComplete();
            _hub.Remove(this);
        }

        public void Dispose()
        {
            _channel.Writer.TryComplete();
            _hub.Remove(this);
        }
    }
}
