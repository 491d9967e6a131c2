using System.Threading.RateLimiting;
using GrandPaymaster.Actors.Dapps;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Compliance;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Node.Api;

namespace GrandPaymaster.Node.Policy;

/// <summary>A dApp whose key the directory knows, with its key's hash (what the entity checks again).</summary>
public sealed record DappCaller(DappId Id, string KeyHash, DirectoryEntry Entry);

/// <summary>
/// The edge's gate for the dApp API (DESIGN.md §9), before any actor message: the key against this node's directory (an
/// unknown, revoked or malformed key spends the client IP's small budget and is answered 401, then 429), a frozen or
/// denylisted dApp, THROTTLED for quotes, and the node's capacity (503 <c>overloaded</c> at once rather than a queue). A request
/// that ignores an earlier <c>Retry-After</c> (beyond the IP's budget, THROTTLED, at the open-quote bound) is answered after
/// <paramref name="ignoredRetryDelay"/>: a client that does not wait then holds its connection instead of the node's CPU.
/// </summary>
public sealed class DappGate(DappDirectory directory, IpBudget budget, ThrottleGuard throttle, IDenylist denylist, TimeProvider clock, OverloadSettings overload,
    TimeSpan ignoredRetryDelay)
{
    private static readonly TimeSpan FullFor = TimeSpan.FromSeconds(1);
    private readonly ExecuteAdmission _executes = new(overload, clock);
    private readonly ConcurrencyLimiter _quotes = Limiter(overload.MaxConcurrentQuotes);

    /// <summary>dApps whose entity refused a quote at its open-quote bound, until when their quotes are refused here (one per dApp).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<DappId, DateTimeOffset> _fullUntil = new();

    public (DappCaller? Caller, IResult? Problem) Admit(HttpContext http, bool quote = false)
    {
        if (!directory.Loaded)
            return (null, Problems.Of(StatusCodes.Status503ServiceUnavailable, "not_ready", "The node is still loading its directory of dApps; retry shortly.", retryAfterSeconds: 1));
        // An id nobody registered is refused before the key is hashed: a flood of made-up keys costs a dictionary lookup each.
        if (!ApiKeys.TryRead(http.Request, out var dappId, out var key) || directory.Find(dappId) is null) return (null, Unauthenticated(http));
        var keyHash = DappState.HashApiKey(key);
        if (directory.Authenticate(dappId, keyHash) is not { } entry) return (null, Unauthenticated(http));
        if (entry.Frozen)
            return (null, Problems.Of(StatusCodes.Status403Forbidden, RejectionCodes.DappFrozen, "This dApp is frozen; an operator must review and unfreeze it."));
        if (denylist.Find(DenylistKind.Dapp, dappId.Value, clock.GetUtcNow()) is not null)
            return (null, Problems.Of(StatusCodes.Status403Forbidden, RejectionCodes.Denylisted, "This dApp is on the denylist."));
        if (quote && _fullUntil.TryGetValue(dappId, out var full) && full > clock.GetUtcNow())
            return (null, Delayed(Problems.Of(StatusCodes.Status429TooManyRequests, RejectionCodes.TooManyOpenQuotes,
                "This dApp holds as many unexecuted quotes as it may; execute or let some expire.", retryAfterSeconds: 1)));
        if (quote && throttle.TryQuote(entry) is { Allowed: false } throttled)
            return (null, Delayed(Problems.Of(StatusCodes.Status429TooManyRequests, RejectionCodes.Throttled,
                $"This dApp is THROTTLED: its quote rate is above its limit or far above its usual rate. Retry after {throttled.RetryAfterSeconds} s.",
                retryAfterSeconds: throttled.RetryAfterSeconds)));
        return (new DappCaller(dappId, keyHash, entry), null);
    }

    /// <summary>A slot of the node's execute capacity (dispose it when done), or null: answer <see cref="Overloaded"/>.</summary>
    public IDisposable? TryExecuteSlot() => _executes.TryEnter();

    /// <summary>
    /// The dApp's entity refused a quote at its open-quote bound: for a second its quotes are refused here, before their body
    /// is read (a flood of large quotes then costs the node a dictionary lookup each, not a parse and an actor message).
    /// </summary>
    public void MarkFull(DappId dappId) => _fullUntil[dappId] = clock.GetUtcNow() + FullFor;

    public RateLimitLease? TryQuoteSlot() => Acquired(_quotes.AttemptAcquire());

    public static IResult Overloaded(string what) =>
        Problems.Of(StatusCodes.Status503ServiceUnavailable, RejectionCodes.Overloaded, $"The node is at its capacity for {what}; retry in a second.", retryAfterSeconds: 1);

    private IResult Unauthenticated(HttpContext http)
    {
        var (allowed, retryAfter) = budget.TryTake(http.Connection.RemoteIpAddress);
        return allowed
            ? Problems.Of(StatusCodes.Status401Unauthorized, RejectionCodes.Unauthorized, $"Send a valid API key in the {ApiKeys.Header} header.")
            : Delayed(Problems.Of(StatusCodes.Status429TooManyRequests, RejectionCodes.Throttled,
                "Too many requests without a valid API key from this address.", retryAfterSeconds: retryAfter));
    }

    private IResult Delayed(IResult refusal) => ignoredRetryDelay <= TimeSpan.Zero ? refusal : new DelayedResult(refusal, ignoredRetryDelay, clock);

    /// <summary>An answer sent after a pause (a timer, not a thread: the connection waits, the CPU does not).</summary>
    private sealed class DelayedResult(IResult inner, TimeSpan delay, TimeProvider clock) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            try
            {
                await Task.Delay(delay, clock, httpContext.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return; // the client left; nothing to answer
            }

            await inner.ExecuteAsync(httpContext);
        }
    }

    private static RateLimitLease? Acquired(RateLimitLease lease)
    {
        if (lease.IsAcquired) return lease;
        lease.Dispose();
        return null;
    }

    private static ConcurrencyLimiter Limiter(int permits) =>
        new(new ConcurrencyLimiterOptions { PermitLimit = permits, QueueLimit = 0 });
}
