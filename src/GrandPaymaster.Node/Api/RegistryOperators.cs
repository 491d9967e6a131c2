using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Operators;
using System.Net;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Node.Policy;
using GrandPaymaster.Domain.Operators;
using Microsoft.Extensions.Options;
using static GrandPaymaster.Domain.Operators.OperatorProtocol;

namespace GrandPaymaster.Node.Api;

/// <summary>Admin API settings: the bootstrap token (creates the first admin only) and the admin API's own listen addresses.</summary>
public sealed class AdminOptions
{
    /// <summary>The public devnet default; a node that listens or reaches chains beyond this machine refuses to start with it.</summary>
    public const string DevBootstrapToken = "dev-operator-token";

    public string BootstrapToken { get; set; } = "";

    /// <summary>Semicolon-separated URLs for the admin API alone (empty: the admin API shares the dApp API's addresses).</summary>
    public string Urls { get; set; } = "";
}

/// <summary>
/// The edge's view of the operator registry singleton: a token is hashed (SHA-256; tokens are 256-bit random, so no salt is
/// needed) and looked up in the registry; the configured bootstrap token is compared in constant time and only answers while
/// no admin exists. Refusals of a known operator are journaled, at most <see cref="RefusalsJournaledPerMinute"/> a minute per
/// operator (beyond that the request is answered <c>throttled</c>, unjournaled, so a stolen token cannot flood the journal).
/// <para>
/// Outsiders cannot make the singleton's mailbox their queue (DESIGN.md §9): a token that authenticated is remembered here for
/// <see cref="RememberFor"/> (bounded by the operators; a revocation or new token through this node forgets at once, elsewhere
/// within that time), and only a token not remembered asks the registry — charged to the client IP's budget (the dApp API's
/// kind of bucket) and at most <see cref="MaxAsksInFlight"/> at a time, beyond which the answer is <c>throttled</c> or
/// <c>overloaded</c> without any actor message.
/// </para>
/// </summary>
public sealed class RegistryOperators(IRequiredActor<OperatorRegistrySingleton> registry, IOptions<AdminOptions> options, TimeProvider clock, IpBudget budget)
    : IOperatorRegistry
{
    public const int RefusalsJournaledPerMinute = 60;
    public const int MaxAsksInFlight = 32;
    public static readonly TimeSpan RememberFor = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, (OperatorRecord Record, long At)> _remembered = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _asks = new(MaxAsksInFlight);
    public const string BootstrapId = OperatorRegistryState.BootstrapId;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, (long Minute, int Count)> _refusals = new(StringComparer.Ordinal);

    public static string HashToken(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>A new operator token: 256 random bits, URL-safe, with a prefix that secret scanners can find.</summary>
    public static string IssueToken() => "gpmo_" + Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    public async Task<OperatorAuthentication> AuthenticateAsync(string token, IPAddress? from, CancellationToken ct)
    {
        var hash = HashToken(token);
        if (_remembered.TryGetValue(hash, out var known) && clock.GetElapsedTime(known.At) < RememberFor) return Identify(known.Record);
        var (allowed, retryAfter) = budget.TryTake(from);
        if (!allowed)
            return new OperatorAuthentication(null, RejectionCodes.Throttled, Detail: "Too many requests with unknown operator tokens from this address.",
                RetryAfterSeconds: retryAfter);
        if (!await _asks.WaitAsync(0, ct))
            return new OperatorAuthentication(null, RejectionCodes.Overloaded, Detail: "The operator registry is busy; retry in a second.", RetryAfterSeconds: 1);
        Authenticated answer;
        try
        {
            answer = await (await registry.GetAsync(ct)).Ask<Authenticated>(new Authenticate(hash), Timeout, ct);
        }
        catch (AskTimeoutException)
        {
            return new OperatorAuthentication(null, RegistryUnavailable, Detail: "The operator registry did not answer; try again.", RetryAfterSeconds: 2);
        }
        finally
        {
            _asks.Release();
        }

        if (answer.Operator is { } record)
        {
            if (record.IsActiveAt(clock.GetUtcNow())) _remembered[hash] = (record, clock.GetTimestamp());
            return Identify(record);
        }

        if (!IsBootstrap(token)) return new OperatorAuthentication(null);
        return answer.BootstrapOpen
            ? new OperatorAuthentication(new OperatorIdentity(BootstrapId, [OperatorRole.Admin], OperatorScope.Everything, IsBootstrap: true))
            : new OperatorAuthentication(null, OperatorRegistryState.BootstrapClosed, Detail: "The bootstrap token only creates the first admin, which exists.");
    }

    /// <summary>Forgets every remembered token: after a revocation, a new token or a grant through this node, the next request asks.</summary>
    public void Forget() => _remembered.Clear();

    private OperatorAuthentication Identify(OperatorRecord record)
    {
        var now = clock.GetUtcNow();
        return record switch
            {
                { RevokedAt: { } at } => new OperatorAuthentication(null, "token_revoked", record.Id, $"Operator '{record.Id}' was revoked at {at:O}."),
                _ when record.ExpiresAt <= now => new OperatorAuthentication(null, "token_expired", record.Id,
                    $"The token of operator '{record.Id}' expired at {record.ExpiresAt:O}; an admin issues a new one."),
                _ => new OperatorAuthentication(new OperatorIdentity(record.Id, record.Roles, record.Scope)),
            };
    }

    public const string RegistryUnavailable = "registry_unavailable";

    /// <returns>False when this operator's refusals are over the journaling rate (the caller answers <c>throttled</c>).</returns>
    public async Task<bool> RecordRefusalAsync(string operatorId, string method, string route, string code, string detail, string correlationId,
        CancellationToken ct)
    {
        var minute = clock.GetUtcNow().ToUnixTimeSeconds() / 60;
        var (_, count) = _refusals.AddOrUpdate(operatorId, (minute, 1), (_, seen) => seen.Minute == minute ? (minute, seen.Count + 1) : (minute, 1));
        if (count > RefusalsJournaledPerMinute) return false;
        var meta = new Meta(clock.GetUtcNow(), $"operator:{operatorId}", $"{code}: {detail}", correlationId);
        await (await registry.GetAsync(ct)).Ask<Recorded>(new RecordRefusal(operatorId, method, route, code, detail, meta), Timeout, ct);
        return true;
    }

    public async Task RecordActionAsync(string action, string subject, Meta meta, CancellationToken ct) =>
        await (await registry.GetAsync(ct)).Ask<Recorded>(new RecordAction(action, subject, meta), Timeout, ct);

    private bool IsBootstrap(string token)
    {
        var configured = options.Value.BootstrapToken;
        return configured.Length > 0 &&
               CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(token)), SHA256.HashData(Encoding.UTF8.GetBytes(configured)));
    }

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
