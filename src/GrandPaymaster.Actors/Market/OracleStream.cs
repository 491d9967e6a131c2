using System.Diagnostics;
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using GrandPaymaster.Chain.Rpc;

namespace GrandPaymaster.Actors.Market;

/// <summary>This node's latest oracle state of every chain, read by the edge without a round trip (one writer: the oracle actor).</summary>
public class ChainBoard<TState> where TState : class
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, TState> _chains = new();

    public TState? Get(long chainId) => _chains.GetValueOrDefault(chainId);

    public void Set(long chainId, TState state) => _chains[chainId] = state;
}

/// <summary>The shape the market's oracles share: a tick, the sources asked, the answers folded into a state, each state to the actor.</summary>
public static class OracleStream
{
    /// <summary>
    /// Runs <c>tick → ask (one round at a time) → fold</c> on <paramref name="materializer"/> (an actor's: the graph stops
    /// with it) and tells <paramref name="self"/> every folded state. <paramref name="ask"/> must not fail: see <see cref="AskAsync{T}"/>.
    /// </summary>
    public static void Run<TAnswers, TState>(IActorRef self, IMaterializer materializer, TimeSpan tick, Func<Task<TAnswers>> ask, TState seed,
        Func<TState, TAnswers, TState> fold) where TState : notnull =>
        Source.Tick(TimeSpan.Zero, tick, NotUsed.Instance)
            .SelectAsync(1, _ => ask())
            .Scan(seed, fold)
            .Skip(1)
            .RunForeach(state => self.Tell(state), materializer);

    /// <summary>
    /// One source's answer within <paramref name="timeout"/> (a source that ignores cancellation is not waited for); a
    /// source is outside, so whatever goes wrong is its answer for this round (the error, redacted), never the stream's end.
    /// </summary>
    public static async Task<(T? Value, string? Error, TimeSpan Latency)> AskAsync<T>(Func<CancellationToken, Task<T>> read, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            return (await read(cancel.Token).WaitAsync(timeout), null, watch.Elapsed);
        }
        catch (TimeoutException)
        {
            return (default, $"no answer within {timeout.TotalMilliseconds:0} ms", watch.Elapsed);
        }
        catch (Exception e)
        {
            return (default, RpcRedaction.Redact(e.Message), watch.Elapsed);
        }
    }
}
