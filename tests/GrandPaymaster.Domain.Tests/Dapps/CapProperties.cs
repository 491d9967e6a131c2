using System.Collections.Immutable;
using System.Numerics;
using FsCheck;
using FsCheck.Xunit;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;
using static GrandPaymaster.Domain.Dapps.DappCommands;
using static GrandPaymaster.Domain.Dapps.DappReplies;

namespace GrandPaymaster.Domain.Tests.Dapps;

/// <summary>
/// Over random sequences of quotes, executes, settlements (also above the hold), releases and day changes, with random caps,
/// no UTC day ever has more settled-plus-held for the dApp, or for one user, than its cap — recomputed from the executions
/// themselves, not from the counters under test.
/// </summary>
public sealed class CapProperties
{
    private static readonly DappId Dapp = DappId.Parse("cap-law");
    private const string KeyHash = "cafe";
    private static readonly Address[] Users = Enumerable.Range(1, 4).Select(i => Address.Parse("0x" + new string((char)('0' + i), 40))).ToArray();

    [Property(MaxTest = 300)]
    public bool Settled_plus_held_never_passes_a_daily_or_a_per_user_cap(int seed, PositiveInt length)
    {
        var random = new Random(seed);
        var now = new DateTimeOffset(2026, 11, 24, 22, 0, 0, TimeSpan.Zero);
        BigInteger daily = random.Next(1, 40) * 1_000_000L, perUser = random.Next(1, 20) * 1_000_000L;
        var meta = new Meta(now, "operator:p", "caps", "c");
        var state = DappState.Empty(Dapp);
        state = Run(state, state.Decide(new Register(Dapp, "law", KeyHash, new Bps(3_000), meta)).Events);
        state = Run(state, state.Decide(new Deposit(Dapp, new TokenAmount(FeeToken.Usdt, 10_000_000_000), "d", meta)).Events);
        var policy = DappPolicy.Open(0) with { Limits = ImmutableDictionary<FeeToken, TokenLimits>.Empty.Add(FeeToken.Usdt, new TokenLimits(daily, perUser)) };
        state = Run(state, state.Decide(new SetPolicy(Dapp, policy, new Bps(3_000), meta)).Events);
        var quotes = new List<Quote>();
        var everExecuted = new Dictionary<QuoteId, Execution>();

        for (var step = 0; step < Math.Min(length.Get * 3, 120); step++)
        {
            now = now.AddMinutes(random.Next(0, 3) == 0 ? random.Next(0, 400) : 0);
            switch (random.Next(5))
            {
                case 0 or 1:
                    var request = new QuoteRequest(new ChainId(1), Users[random.Next(Users.Length)], Users[0], "0x", random.Next(21_000, 300_000), FeeToken.Usdt);
                    var market = new MarketInputs(new Wei(random.Next(1, 30) * 1_000_000_000L), new Bps(2_000), new ConversionRate(FeeToken.Usdt, 3_000_000_000));
                    if (state.PriceQuote(new RequestQuote(Dapp, KeyHash, request, market, new ForwardInputs(Users[0], 0, 21_000)), QuoteId.New(Dapp), now,
                            TimeSpan.FromMinutes(30)) is QuoteIssued issued)
                        quotes.Add(issued.Quote);
                    break;
                case 2 when quotes.Count > 0:
                    var quote = quotes[random.Next(quotes.Count)];
                    state = Run(state, state.Decide(new ExecuteQuote(Dapp, KeyHash, quote.Id, quote.Id.Value, "h", null, "0xsig"), quote, new Meta(now, "dapp:x", "x", "c")).Events);
                    break;
                case 3 when state.Executions.Values.Any(e => e.HoldIsOpen):
                    var open = state.Executions.Values.Where(e => e.HoldIsOpen).ElementAt(random.Next(state.Executions.Values.Count(e => e.HoldIsOpen)));
                    // Gas used up to 1.5 × the limit: a receipt above the hold settles at the hold (the rest is shortfall).
                    var gasUsed = open.Quote.Breakdown.GasLimit * random.Next(1, 150) / 100;
                    state = Run(state, state.Decide(new SettleFee(Dapp, open.Quote.Id, new ChainId(1), "0x1", gasUsed, open.Quote.Breakdown.GasPrice, true, 1, now),
                        Meta.System("pool", "settle", now)).Events);
                    break;
                case 4 when state.Executions.Values.Any(e => e.HoldIsOpen):
                    var release = state.Executions.Values.First(e => e.HoldIsOpen);
                    state = Run(state, state.Decide(new RelayFailed(Dapp, release.Quote.Id, "dropped"), Meta.System("pool", "release", now)).Events);
                    break;
            }

            foreach (var (id, execution) in state.Executions) everExecuted[id] = execution;
            if (!WithinCaps(everExecuted.Values, daily, perUser)) return false;
        }

        return true;
    }

    /// <summary>Per UTC day of the hold: open holds count whole, settled ones their fee, released ones nothing.</summary>
    private static bool WithinCaps(IEnumerable<Execution> executions, BigInteger daily, BigInteger perUser)
    {
        static BigInteger Counted(Execution e) => e.Status switch
        {
            ExecutionStatus.Settled => e.Settlement!.Amounts.Fee.Units,
            ExecutionStatus.Released => 0,
            _ => e.Hold.Units,
        };

        var byDay = executions.GroupBy(e => DailySpend.DayOf(e.DeductedAt)).ToArray();
        return byDay.All(day => day.Aggregate(BigInteger.Zero, (sum, e) => sum + Counted(e)) <= daily
                                && day.GroupBy(e => e.Quote.Request.Sender).All(user => user.Aggregate(BigInteger.Zero, (sum, e) => sum + Counted(e)) <= perUser));
    }

    private static DappState Run(DappState state, IEnumerable<DappEvents.IDappEvent> events) => events.Aggregate(state, (s, e) => s.Apply(e));
}
