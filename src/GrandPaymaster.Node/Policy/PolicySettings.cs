using System.Numerics;
using Akka.Configuration;
using GrandPaymaster.Actors.Persistence;
using GrandPaymaster.Domain.Dapps;

namespace GrandPaymaster.Node.Policy;

/// <summary>The operator's overlay over <c>hocon/policy.hocon</c> (<c>Gpm:Policy:Hocon</c>).</summary>
public sealed class PolicyOptions
{
    public string Hocon { get; set; } = "";
}

/// <summary>The quote bucket every dApp gets unless its operator's policy sets another rate.</summary>
public sealed record QuoteRateSettings(int PerSecond, int BurstFactor);

/// <summary>When a dApp enters THROTTLED and for how long (<c>gpm.policy.throttle</c>).</summary>
public sealed record ThrottleSettings(TimeSpan Cooldown, TimeSpan BaselineWindow, TimeSpan SurgeWindow, double SurgeFactor, double SurgeMinPerSecond);

/// <summary>The budget of requests without a valid key, per client IP (<c>gpm.policy.unauthenticated</c>).</summary>
public sealed record UnauthenticatedBudgetSettings(double PerSecond, int Burst, int Slots);

/// <summary>How much work the node takes at once (<c>gpm.policy.overload</c>): executes adaptively between a floor and a ceiling.</summary>
public sealed record OverloadSettings(int MaxConcurrentExecutes, int MaxConcurrentQuotes, int MinConcurrentExecutes, TimeSpan ExecuteLatencyTarget);

/// <summary>The denylist's pattern rules (<c>gpm.policy.denylist</c>).</summary>
public sealed record DenylistRuleSettings(int WalletQuotesPerMinute, BigInteger SingleQuoteAboveWei, TimeSpan ExpireAfter, int TrackedWallets);

/// <summary>Every knob of <c>gpm.policy</c>, read once at start.</summary>
public sealed record PolicySettings(
    QuoteRateSettings Quotes,
    int MaxOpenQuotes,
    long MaxOpenQuoteBytes,
    ThrottleSettings Throttle,
    UnauthenticatedBudgetSettings Unauthenticated,
    OverloadSettings Overload,
    DenylistRuleSettings Denylist,
    FraudRules Fraud,
    TimeSpan IgnoredRetryDelay)
{
    /// <summary><c>hocon/policy.hocon</c> under the operator's overlay.</summary>
    public static PolicySettings Load(string overlay) => From(ConfigurationFactory.ParseString(overlay).WithFallback(PersistenceHocon.Load("policy.hocon")));

    public static PolicySettings From(Config root)
    {
        var c = root.GetConfig("gpm.policy");
        var fraud = c.GetConfig("fraud");
        return new PolicySettings(
            new QuoteRateSettings(Positive(c.GetInt("quotes.per-second"), "quotes.per-second"), Positive(c.GetInt("quotes.burst-factor"), "quotes.burst-factor")),
            Positive(c.GetInt("quotes.max-open"), "quotes.max-open"),
            c.GetLong("quotes.max-open-bytes"),
            new ThrottleSettings(c.GetTimeSpan("throttle.cooldown"), c.GetTimeSpan("throttle.baseline-window"), c.GetTimeSpan("throttle.surge-window"),
                c.GetDouble("throttle.surge-factor"), c.GetDouble("throttle.surge-min-per-second")),
            new UnauthenticatedBudgetSettings(c.GetDouble("unauthenticated.per-second"), Positive(c.GetInt("unauthenticated.burst"), "unauthenticated.burst"),
                Positive(c.GetInt("unauthenticated.slots"), "unauthenticated.slots")),
            new OverloadSettings(Positive(c.GetInt("overload.max-concurrent-executes"), "overload.max-concurrent-executes"),
                Positive(c.GetInt("overload.max-concurrent-quotes"), "overload.max-concurrent-quotes"),
                Positive(c.GetInt("overload.min-concurrent-executes"), "overload.min-concurrent-executes"),
                c.GetTimeSpan("overload.execute-latency-target")),
            new DenylistRuleSettings(Positive(c.GetInt("denylist.wallet-quotes-per-minute"), "denylist.wallet-quotes-per-minute"),
                BigInteger.Parse(c.GetString("denylist.single-quote-above-wei"), System.Globalization.CultureInfo.InvariantCulture),
                c.GetTimeSpan("denylist.expire-after"), Positive(c.GetInt("denylist.tracked-wallets"), "denylist.tracked-wallets")),
            new FraudRules
            {
                UnexecutedWindow = fraud.GetTimeSpan("unexecuted-quotes.window"),
                UnexecutedMinQuotes = fraud.GetInt("unexecuted-quotes.min-quotes"),
                UnexecutedMaxRatio = fraud.GetInt("unexecuted-quotes.max-ratio"),
                FreshSendersWindow = fraud.GetTimeSpan("fresh-senders.window"),
                FreshSendersMax = fraud.GetInt("fresh-senders.max"),
                RememberedSenders = fraud.GetInt("fresh-senders.remembered"),
                HighValueWindow = fraud.GetTimeSpan("high-value-quotes.window"),
                HighValueWei = BigInteger.Parse(fraud.GetString("high-value-quotes.min-wei"), System.Globalization.CultureInfo.InvariantCulture),
                HighValueMax = fraud.GetInt("high-value-quotes.max"),
                RevertsWindow = fraud.GetTimeSpan("simulation-reverts.window"),
                RevertsMax = fraud.GetInt("simulation-reverts.max"),
            },
            c.GetTimeSpan("ignored-retry-delay"));
    }

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new InvalidOperationException($"gpm.policy.{name} must be positive, not {value}.");
}
