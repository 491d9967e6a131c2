using System.Numerics;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Actors.Vault;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Wallets;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;
using BroadcastVerdict = GrandPaymaster.Domain.Pools.BroadcastVerdict;
using GrandPaymaster.Domain.Treasury;
using Xunit.Abstractions;
using static GrandPaymaster.Domain.Treasury.VaultProtocol;
using Address = GrandPaymaster.Domain.Common.Address;

namespace GrandPaymaster.Actors.Tests.Vault;

/// <summary>
/// The vault on a real anvil chain and a real SQLite journal: a top-up sent three times, with the vault restarted in between, is
/// mined once (the signed bytes are journaled before any broadcast and broadcast again after a restart, never re-signed); a top-up
/// to an address that is not a registered pool wallet is refused, journaled, and nothing leaves the vault.
/// </summary>
public sealed class VaultActorSpecs : TestKit, IAsyncLifetime
{
    private const long ChainIdValue = 31337;
    private const string Seed = "vault-actor-specs";
    private static readonly ChainId Chain = new(ChainIdValue);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly TempJournal _journal;
    private readonly DevWallets _wallets = new(Seed);
    private DevnetLauncher _chains = null!;
    private EthRpcClient _rpc = null!;
    private IVaultChain _chain = null!;
    private int _incarnation;

    public VaultActorSpecs(ITestOutputHelper output) : this(new TempJournal(), output)
    {
    }

    private VaultActorSpecs(TempJournal journal, ITestOutputHelper output) : base(journal.Config, output: output) => _journal = journal;

    private Address VaultAddress => _wallets.Vault(ChainIdValue).Address.ToDomain();
    private Address PoolWallet => _wallets.PoolWorker(ChainIdValue, 0).Address.ToDomain();

    public async Task InitializeAsync()
    {
        _chains = await DevnetLauncher.StartAsync([new DevnetChainSpec("vault-a", ChainIdValue, DevnetChainSpec.FreeLoopbackPort())], _http);
        _rpc = new EthRpcClient(_http, _chains.Chains[0].RpcUrl);
        await DevnetFunder.FundAsync(_rpc, ChainIdValue, AnvilDevAccounts.Key(0), [(_wallets.Vault(ChainIdValue).Address, 100 * DevnetFunder.Ether)]);
        _chain = new RpcVaultChain(new RpcPoolChain(new ChainEndpoints(ChainIdValue, [_rpc], new ChainEndpointSettings(), TimeProvider.System)));
    }

    public async Task DisposeAsync()
    {
        await _chains.DisposeAsync();
        _http.Dispose();
        _journal.Dispose();
    }

    [Fact]
    public async Task A_top_up_sent_three_times_with_restarts_in_between_is_signed_once_and_mined_once()
    {
        var amount = 3 * DevnetFunder.Ether;
        var before = await BalanceAsync(PoolWallet);
        var request = new TopUpRequest("top-up-1", Chain, PoolWallet, new Wei(amount), RebalancePriority.Critical, Meta.System("orchestrator", "below min", DateTimeOffset.UtcNow));

        // 1st: signed and journaled, but the broadcast is lost (the node never sees it); then the vault stops.
        var vault = await StartAsync(new SilentChain(_chain), register: true);
        vault.Tell(request);
        var submitted = ExpectMsg<TopUpSubmitted>(Wait);
        await StopAsync(vault);

        // 2nd, after a restart: the same transfer is answered; nothing is signed again.
        vault = await StartAsync(new SilentChain(_chain));
        vault.Tell(request);
        Assert.Equal(submitted, ExpectMsg<TopUpSubmitted>(Wait));
        await StopAsync(vault);
        Assert.Equal(BigInteger.Zero, await _rpc.GetTransactionCountAsync(VaultAddress.Value, BlockTag.Latest));

        // 3rd, after another restart on a working chain: the same bytes are broadcast again and mined once.
        vault = await StartAsync(_chain);
        vault.Tell(request);
        var answers = new List<object>();
        FishForMessage(m =>
        {
            answers.Add(m);
            return m is VaultProtocol.TopUpCompleted;
        }, Wait);
        var completed = Assert.IsType<VaultProtocol.TopUpCompleted>(answers[^1]);
        Assert.Equal((submitted.TxHash, new Wei(amount)), (completed.TxHash, completed.Amount));
        Assert.Equal(amount, await BalanceAsync(PoolWallet) - before);
        Assert.Equal(BigInteger.One, await _rpc.GetTransactionCountAsync(VaultAddress.Value, BlockTag.Latest));
        Assert.NotNull(await _rpc.GetTransactionReceiptAsync(submitted.TxHash));

        // A fourth request and a status query after completion are answered from the journal; nothing more leaves the vault.
        vault.Tell(request);
        Assert.Equal(completed, ExpectMsg<VaultProtocol.TopUpCompleted>(Wait));
        await StopAsync(vault);
        vault = await StartAsync(_chain);
        vault.Tell(new GetTopUp("top-up-1"));
        Assert.Equal(completed, ExpectMsg<VaultProtocol.TopUpCompleted>(Wait));
        Assert.Equal(BigInteger.One, await _rpc.GetTransactionCountAsync(VaultAddress.Value, BlockTag.Latest));
    }

    [Fact]
    public async Task A_pool_cannot_make_the_vault_pay_an_address_that_is_not_a_registered_pool_wallet_and_the_refusal_is_journaled()
    {
        var stranger = Address.Parse("0x000000000000000000000000000000000000dEaD");
        var vault = await StartAsync(_chain, register: true);

        vault.Tell(new TopUpRequest("steal-1", Chain, stranger, new Wei(DevnetFunder.Ether), RebalancePriority.Critical,
            Meta.System("pool", "send it elsewhere", DateTimeOffset.UtcNow)));
        var refused = ExpectMsg<VaultProtocol.TopUpFailed>(Wait);
        Assert.Equal((VaultCodes.NotAPoolWallet, false), (refused.Code, refused.Retryable));
        // Above the automatic limit, even to a pool wallet: only a proposal with approvals moves that much.
        vault.Tell(new TopUpRequest("big-1", Chain, PoolWallet, new Wei(80 * DevnetFunder.Ether), RebalancePriority.Critical,
            Meta.System("pool", "a lot", DateTimeOffset.UtcNow)));
        Assert.Equal(VaultCodes.AboveAutoLimit, ExpectMsg<VaultProtocol.TopUpFailed>(Wait).Code);

        // The refusals survive a restart: they were journaled, not just answered.
        await StopAsync(vault);
        vault = await StartAsync(_chain);
        vault.Tell(new GetTopUp("steal-1"));
        Assert.Equal(VaultCodes.NotAPoolWallet, ExpectMsg<VaultProtocol.TopUpFailed>(Wait).Code);
        vault.Tell(new GetTopUp("never-sent"));
        ExpectMsg<TopUpUnknown>(Wait);
        Assert.Equal(BigInteger.Zero, await _rpc.GetTransactionCountAsync(VaultAddress.Value, BlockTag.Latest));
        Assert.Equal(BigInteger.Zero, await BalanceAsync(stranger));
    }

    [Fact]
    public void The_settings_come_from_hocon_vault_with_the_operators_overlay()
    {
        var defaults = VaultHocon.Load("");
        var overlaid = VaultHocon.Load("""
            gpm.vault.chains."31337" { daily-limit = "7", auto-limit = "3" }
            gpm.vault.approvals-required = 3
            """);

        Assert.Equal((2, TimeSpan.FromHours(24)), (defaults.Policy.ApprovalsRequired, defaults.Policy.ProposalTtl));
        Assert.Equal(new VaultLimits(new Wei(500 * Wei.PerCoin), new Wei(50 * Wei.PerCoin)), defaults.Policy.LimitsOf(Chain));
        Assert.Equal(new VaultLimits(new Wei(7), new Wei(3)), overlaid.Policy.LimitsOf(Chain));
        Assert.Equal(defaults.Policy.DefaultLimits, overlaid.Policy.LimitsOf(new ChainId(31338)));
        Assert.Equal(3, overlaid.Policy.ApprovalsRequired);
        Assert.Throws<InvalidOperationException>(() => VaultHocon.Load("gpm.vault.approvals-required = 0"));
        Assert.Throws<InvalidOperationException>(() => VaultHocon.Load("gpm.vault.defaults.daily-limit = \"ten\""));
    }

    private Task<IActorRef> StartAsync(IVaultChain chain, bool register = false)
    {
        var settings = VaultHocon.Load("") with { WatchInterval = TimeSpan.FromMilliseconds(200), RebroadcastAfter = TimeSpan.FromMilliseconds(500) };
        // The vault registers the key source's pool wallets itself when it has recovered (no command can register one).
        var deps = new VaultDependencies(new DevVaultKeys(Seed, [ChainIdValue]), [Chain], _ => chain, _ => 0, TimeProvider.System, settings)
        {
            PoolWallets = register ? new Dictionary<ChainId, IReadOnlyList<Address>> { [Chain] = [PoolWallet] } : new Dictionary<ChainId, IReadOnlyList<Address>>(),
        };
        return Task.FromResult(Sys.ActorOf(VaultActor.PropsFor(deps), $"vault-{++_incarnation}"));
    }

    private async Task StopAsync(IActorRef vault)
    {
        Watch(vault);
        Sys.Stop(vault);
        ExpectTerminated(vault, Wait);
        await Task.Delay(100);
    }

    private Task<BigInteger> BalanceAsync(Address wallet) => _rpc.GetBalanceAsync(wallet.Value, BlockTag.Latest);

    /// <summary>A chain whose node never receives our broadcasts (a crash right after the journal write looks like this).</summary>
    private sealed class SilentChain(IVaultChain inner) : IVaultChain
    {
        public Task<BigInteger> NonceAsync(Address wallet, BigInteger? block, CancellationToken ct) => inner.NonceAsync(wallet, block, ct);
        public Task<(BigInteger Number, BigInteger? BaseFee)> HeadAsync(CancellationToken ct) => inner.HeadAsync(ct);
        public Task<(BroadcastVerdict Verdict, string Reason)> BroadcastAsync(string rawTx, CancellationToken ct) =>
            Task.FromResult((BroadcastVerdict.Unknown, "unknown: the test drops it"));
        public Task<VaultReceipt?> ReceiptAsync(string txHash, CancellationToken ct) => inner.ReceiptAsync(txHash, ct);
        public Task<bool> IsKnownAsync(string txHash, CancellationToken ct) => inner.IsKnownAsync(txHash, ct);
    }
}
