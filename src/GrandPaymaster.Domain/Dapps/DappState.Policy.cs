using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;
using static GrandPaymaster.Domain.Dapps.DappCommands;
using static GrandPaymaster.Domain.Dapps.DappEvents;
using static GrandPaymaster.Domain.Dapps.DappReplies;

namespace GrandPaymaster.Domain.Dapps;

/// <summary>
/// The dApp's policy: what its operator allows, the limits it set itself, the daily caps, freezing and throttling.
/// Caps count the holds opened on the current UTC day (a settled hold counts its fee, a released one nothing), so the
/// settled-plus-held amount of a day never passes a cap.
/// </summary>
public sealed partial record DappState
{
    /// <summary>The limits that apply in <paramref name="token"/>: the tighter of the operator's and the dApp's own.</summary>
    public TokenLimits EffectiveLimits(FeeToken token) =>
        (Policy?.LimitsOf(token) ?? TokenLimits.None).Tighten(OwnLimits.GetValueOrDefault(token, TokenLimits.None));

    /// <summary>
    /// A null part of the command keeps the current one (a dApp without a policy has the open one); the event records the
    /// resulting policy and surcharge whole, so a replay needs nothing but the event.
    /// </summary>
    public Decision Decide(SetPolicy command)
    {
        if (!IsRegistered) return Decision.Reject(RejectionCodes.DappNotFound, $"dApp {Id} is not registered.");
        if (command.Policy is null && command.Surcharge is null)
            return Decision.Reject(RejectionCodes.InvalidRequest, "A policy change needs a policy, a surcharge or both.");
        if (command.Surcharge is { IsValidSurcharge: false } surcharge)
            return Decision.Reject(RejectionCodes.InvalidRequest, $"Surcharge {surcharge} is outside 20–50%.");
        var set = new PolicySet(Id, command.Policy ?? Policy ?? DappPolicy.Open(0), command.Surcharge ?? Profile!.Surcharge, command.Meta);
        var after = Apply(set);
        return new Decision(after.PolicyOf(command.Meta.At), [set]);
    }

    /// <summary>The dApp's own limits must stay within what its operator allows; a limit the operator did not set is open.</summary>
    public Decision Decide(SetOwnLimits command)
    {
        if (Authenticate(command.ApiKeyHash) is { } refused) return new Decision(new Rejected(refused), []);
        foreach (var (token, limits) in command.Limits)
        {
            var ceiling = Policy?.LimitsOf(token) ?? TokenLimits.None;
            if (!limits.IsWithin(ceiling))
                return Decision.Reject(RejectionCodes.Forbidden,
                    $"The {token.Symbol()} limits must stay within those your operator set (daily {Show(ceiling.Daily)}, per user {Show(ceiling.PerUserDaily)}, per transaction {Show(ceiling.PerTransaction)}).");
        }

        if (command.Limits.Count == OwnLimits.Count && command.Limits.All(l => OwnLimits.TryGetValue(l.Key, out var own) && own == l.Value)) return new Decision(PolicyOf(command.Meta.At), []);
        var set = new OwnLimitsSet(Id, command.Limits, command.Meta);
        return new Decision(Apply(set).PolicyOf(command.Meta.At), [set]);
    }

    public IPaymasterMessage Query(GetPolicy query, DateTimeOffset now)
    {
        if (query.ApiKeyHash is { } hash && Authenticate(hash) is { } refused) return new Rejected(refused);
        return IsRegistered ? PolicyOf(now) : new Rejected(new Rejection(RejectionCodes.DappNotFound, $"dApp {Id} is not registered."));
    }

    /// <summary>Freezing a frozen dApp changes nothing (its first rule and evidence stay on record).</summary>
    public Decision Decide(FreezeDapp command)
    {
        if (!IsRegistered) return Decision.Reject(RejectionCodes.DappNotFound, $"dApp {Id} is not registered.");
        if (Frozen is not null) return new Decision(View(), []);
        var frozen = new DappFrozen(Id, command.Rule, command.Evidence, command.Meta);
        return new Decision(Apply(frozen).View(), [frozen]);
    }

    public Decision Decide(UnfreezeDapp command)
    {
        if (!IsRegistered) return Decision.Reject(RejectionCodes.DappNotFound, $"dApp {Id} is not registered.");
        if (Frozen is null) return new Decision(View(), []);
        var unfrozen = new DappUnfrozen(Id, command.Meta);
        return new Decision(Apply(unfrozen).View(), [unfrozen]);
    }

    public Decision Decide(RotateApiKey command)
    {
        if (!IsRegistered) return Decision.Reject(RejectionCodes.DappNotFound, $"dApp {Id} is not registered.");
        var rotated = new ApiKeyRotated(Id, command.ApiKeyHash, command.Meta);
        return new Decision(Apply(rotated).View(), [rotated]);
    }

    /// <summary>
    /// One event per transition, also with several edges reporting: entering while a period as long is on record changes
    /// nothing (a longer one extends it); leaving counts only for the period on record (another edge's later period stays).
    /// </summary>
    public Decision Decide(ReportThrottle command)
    {
        if (!IsRegistered) return Decision.Reject(RejectionCodes.DappNotFound, $"dApp {Id} is not registered.");
        var unchanged = command.Throttled
            ? ThrottledUntil is { } until && until > command.Meta.At && until >= command.Until
            : ThrottledUntil is not { } current || current > command.Until;
        if (unchanged) return new Decision(View(), []);
        IDappEvent change = command.Throttled
            ? new DappThrottled(Id, command.Reason, command.Until, command.Meta)
            : new DappThrottleLifted(Id, command.Meta);
        return new Decision(Apply(change).View(), [change]);
    }

    private Rejection? FrozenRefusal() => Frozen is { } f
        ? new Rejection(RejectionCodes.DappFrozen, $"This dApp is frozen since {f.At:O} ({f.Rule}); an operator must review and unfreeze it.")
        : null;

    /// <summary>The chain and the target contract must be ones the operator allows.</summary>
    private Rejection? PolicyRefusal(QuoteRequest request)
    {
        if (Policy is not { } policy) return null;
        if (!policy.AllowsChain(request.ChainId))
            return new Rejection(RejectionCodes.ChainNotAllowed, $"This dApp is not sponsored on chain {request.ChainId}.");
        return policy.AllowsTarget(request.To)
            ? null
            : new Rejection(RejectionCodes.TargetNotAllowed, $"This dApp is not sponsored for calls to {request.To}.");
    }

    /// <summary>
    /// A hold of <paramref name="fee"/> on <paramref name="now"/>'s UTC day must fit the per-transaction limit, the daily cap and,
    /// for a forwarded call, the user's daily cap. Caps answer with the seconds until they reset.
    /// </summary>
    private Rejection? CapRefusal(TokenAmount fee, Address? user, DateTimeOffset now)
    {
        var limits = EffectiveLimits(fee.Token);
        var symbol = fee.Token.Symbol();
        if (limits.PerTransaction is { } most && fee.Units > most)
            return new Rejection(RejectionCodes.MaxFeeExceeded, $"The maximum fee {fee.Units} {symbol} base units is above this dApp's limit of {most} per transaction.");
        // A clock behind the one that counted (after a handover) still sees the later day's counters.
        var day = DailySpend.DayOf(now) > Spend.Day ? DailySpend.DayOf(now) : Spend.Day;
        var reset = (int)Math.Ceiling((DailySpend.NextReset(now) - now).TotalSeconds);
        if (limits.Daily is { } cap && Spend.TotalOn(day, fee.Token) + fee.Units > cap)
            return new Rejection(RejectionCodes.DailyCapExceeded,
                $"This dApp's daily cap of {cap} {symbol} base units would be passed ({Spend.TotalOn(day, fee.Token)} used today, this quote holds {fee.Units}); it resets at 00:00 UTC.",
                reset);
        if (user is { } u && limits.PerUserDaily is { } userCap && Spend.UserOn(day, fee.Token, u) + fee.Units > userCap)
            return new Rejection(RejectionCodes.UserCapExceeded,
                $"User {u}'s daily cap of {userCap} {symbol} base units would be passed ({Spend.UserOn(day, fee.Token, u)} used today); it resets at 00:00 UTC.",
                reset);
        return null;
    }

    private PolicyView PolicyOf(DateTimeOffset now)
    {
        var policy = Policy ?? DappPolicy.Open(0);
        var day = DailySpend.DayOf(now);
        var tokens = FeeTokens.All;
        return new PolicyView(Id, policy, Profile!.Surcharge, OwnLimits,
            tokens.ToImmutableDictionary(t => t, EffectiveLimits), day, tokens.ToImmutableDictionary(t => t, t => Spend.TotalOn(day, t)));
    }

    private DappState ApplyPolicy(IDappEvent @event) => @event switch
    {
        PolicySet e => this with { Policy = e.Policy, Profile = Profile! with { Surcharge = e.Surcharge } },
        OwnLimitsSet e => this with { OwnLimits = e.Limits },
        DappFrozen e => this with { Frozen = new Freeze(e.Rule, e.Evidence, e.Meta.At) },
        DappUnfrozen => this with { Frozen = null },
        ApiKeyRotated e => this with { Profile = Profile! with { ApiKeyHash = e.ApiKeyHash } },
        DappThrottled e => this with { ThrottledUntil = e.Until },
        DappThrottleLifted => this with { ThrottledUntil = null },
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "Not a policy event."),
    };

    /// <summary>A new hold counts on its day, in total and for its user (the signer of a forwarded request).</summary>
    private DappState CountSpend(FeeDeducted e) =>
        Executions.TryGetValue(e.QuoteId, out var execution)
            ? this with { Spend = Spend.Add(DailySpend.DayOf(e.Meta.At), e.Hold.Token, UserOf(execution), e.Hold.Units) }
            : this;

    /// <summary>An open hold that closes replaces its amount on its day's counters with what it cost (<paramref name="fee"/>; 0 when released).</summary>
    private DappState TakeBackSpend(QuoteId quoteId, BigInteger fee) =>
        Executions.TryGetValue(quoteId, out var execution) && execution.HoldIsOpen
            ? this with { Spend = Spend.Add(DailySpend.DayOf(execution.DeductedAt), execution.Hold.Token, UserOf(execution), BigInteger.Min(fee, execution.Hold.Units) - execution.Hold.Units) }
            : this;

    private static Address? UserOf(Execution execution) => execution.Quote.Forward is null ? null : execution.Quote.Request.Sender;

    private static string Show(BigInteger? limit) => limit?.ToString(CultureInfo.InvariantCulture) ?? "none";
}
