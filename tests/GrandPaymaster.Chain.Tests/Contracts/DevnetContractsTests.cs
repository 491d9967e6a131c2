using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Wallets;

namespace GrandPaymaster.Chain.Tests.Contracts;

/// <summary>The devnet deploys the project's contracts at the same addresses on every start, and only once per chain.</summary>
public sealed class DevnetContractsTests
{
    [Fact]
    public void A_created_address_follows_from_the_sender_and_nonce_alone()
    {
        // The widely quoted example of CREATE addresses (sender 0x6ac7…dbf0 at nonces 0 and 1).
        var sender = EthAddress.Parse("0x6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0");

        Assert.Equal(EthAddress.Parse("0xcd234a471b72ba2f1ccf0a70fcaba648a5eecd8d"), DevnetContracts.CreatedAddress(sender, 0));
        Assert.Equal(EthAddress.Parse("0x343c43a37d37dff08ae8c4a11544c718abb4fcf8"), DevnetContracts.CreatedAddress(sender, 1));
    }

    [Fact]
    public async Task Two_fresh_chains_get_the_contracts_at_the_same_addresses_and_deploying_again_changes_nothing()
    {
        using var http = new HttpClient();
        var deployer = new DevWallets("grand-paymaster-devnet").Deployer(4646);
        var seen = new List<DevnetContractAddresses>();
        for (var start = 0; start < 2; start++)
        {
            await using var launcher = await DevnetLauncher.StartAsync([new DevnetChainSpec("contracts", 4646, DevnetChainSpec.FreeLoopbackPort())], http);
            var rpc = new EthRpcClient(http, launcher.Chains[0].RpcUrl);
            seen.Add(await DevnetContracts.DeployAsync(rpc, 4646, deployer, AnvilDevAccounts.Key(0)));

            Assert.Equal(seen[^1], await DevnetContracts.DeployAsync(rpc, 4646, deployer, AnvilDevAccounts.Key(0)));
            Assert.Equal(2, await rpc.GetTransactionCountAsync(deployer.Address.ToChecksumString(), BlockTag.Latest));
        }

        Assert.Equal(seen[0], seen[1]);
        Assert.Equal(DevnetContracts.AddressesFor(deployer.Address), seen[0]);
    }
}
