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
/// The ledger law (DESIGN.md §3) over random sequences of deposit / quote / execute / relay success or
/// failure / settle (including duplicates and receipts above the hold) / expire, for both tokens.
/// </summary>
public sealed class LedgerLawProperties
{
    private const string KeyHash = "feedface";
    private static readonly DappId Dapp = DappId.Parse("ledger-law");

    [Property(MaxTest = 200)]
    public bool The_ledger_law_holds_after_every_step_of_any_sequence(int seed, PositiveInt length)
    {
        var random = new Random(seed);
        var now = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);
        var state = DappState.Empty(Dapp);
        state = Run(state, state.Decide(new Register(Dapp, "law", KeyHash, new Bps(2_000 + random.Next(3_001)), Meta(now))).Events);
        state = Run(state, state.Decide(new SetDirectCall(Dapp, new DirectCallTarget(new ChainId(31337), Address.Parse("0x" + new string('2', 40))), true, Meta(now))).Events);
        var quotes = new List<Quote>();

        for (var step = 0; step < Math.Min(length.Get, 60); step++)
        {
            now = now.AddSeconds(random.Next(0, 40));
            var token = random.Next(2) == 0 ? FeeToken.Usdt : FeeToken.Vcn;
            switch (random.Next(6))
            {
                case 0:
                    state = Run(state, state.Decide(new Deposit(Dapp, new TokenAmount(token, Units(random, token) * random.Next(1, 50)), $"d-{step}", Meta(now))).Events);
                    break;
                case 1:
                    var priced = state.PriceQuote(new RequestQuote(Dapp, KeyHash, Request(random, token), Market(random, token)),
                        QuoteId.New(Dapp), now, TimeSpan.FromSeconds(60));
                    quotes.Add(((QuoteIssued)priced).Quote);
                    break;
                case 2 when quotes.Count > 0:
                    var quote = quotes[random.Next(quotes.Count)];
                    var key = random.Next(4) == 0 && state.IdempotencyKeys.Count > 0 ? state.IdempotencyKeys.Keys.First() : Guid.NewGuid().ToString();
                    var decision = state.Decide(new ExecuteQuote(Dapp, KeyHash, quote.Id, key, quote.Id.Value, null), quote, Meta(now));
                    state = Run(state, decision.Events);
                    break;
                case 3 when state.Executions.Values.Any(e => e.HoldIsOpen):
                    // Relay answers: success for a waiting hold; failure (refused, or dropped after submission) for any open one.
                    var open = state.Executions.Values.First(e => e.HoldIsOpen);
                    state = random.Next(3) == 0 || open.Status != ExecutionStatus.Deducted
                        ? Run(state, state.Decide(new RelayFailed(Dapp, open.Quote.Id, "rpc down"), Meta(now)).Events)
                        : Run(state, state.Decide(new RelaySucceeded(Dapp, open.Quote.Id, "0x" + random.Next().ToString("x64"), default, 0), Meta(now)).Events);
                    break;
                case 4 when state.Executions.Count > 0:
                    // Settle any execution, also ones already settled or released (redelivery, late receipts).
                    var execution = state.Executions.Values.ElementAt(random.Next(state.Executions.Count));
                    var limit = execution.Quote.Breakdown.GasLimit;
                    var used = limit * random.Next(0, 130) / 100;
                    var price = execution.Quote.Breakdown.GasPrice.Value * random.Next(50, 180) / 100;
                    state = Run(state, state.Decide(new SettleFee(Dapp, execution.Quote.Id, execution.Quote.Request.ChainId, "0xabc", used, new Wei(price),
                        random.Next(5) > 0, 1, now), Meta(now)).Events);
                    break;
                default:
                    now = now.AddMinutes(2); // let quotes expire
                    break;
            }

            if (!LawHolds(state)) return false;
        }

        return true;
    }

    private static bool LawHolds(DappState state) =>
        FeeTokens.All.All(token =>
        {
            var ledger = state.LedgerOf(token);
            var openHolds = state.Executions.Values.Where(e => e.HoldIsOpen && e.Hold.Token == token).Aggregate(BigInteger.Zero, (sum, e) => sum + e.Hold.Units);
            var settled = state.Executions.Values.Where(e => e.Settlement is not null && e.Hold.Token == token)
                .Aggregate(BigInteger.Zero, (sum, e) => sum + e.Settlement!.Amounts.Fee.Units);
            return ledger.LawHolds && ledger.Held == openHolds && ledger.Settled == settled && ledger.Available >= 0;
        });

    private static DappState Run(DappState state, IEnumerable<DappEvents.IDappEvent> events) =>
        events.Aggregate(state, (s, e) => s.Apply(e));

    private static Meta Meta(DateTimeOffset at) => new(at, "system:test", "property", "c");

    private static BigInteger Units(Random random, FeeToken token) => BigInteger.Pow(10, token.Decimals()) * random.Next(1, 20);

    private static QuoteRequest Request(Random random, FeeToken token) =>
        new(new ChainId(31337), Address.Parse("0x" + new string('1', 40)), Address.Parse("0x" + new string('2', 40)), "0x", random.Next(21_000, 500_000), token);

    private static MarketInputs Market(Random random, FeeToken token) =>
        new(new Wei(random.Next(1, 200) * 1_000_000_000L), new Bps(random.Next(0, 5_000)),
            token == FeeToken.Usdt ? new ConversionRate(token, 3_000_000_000) : new ConversionRate(token, BigInteger.Parse("300000000000000000000000")));
}
